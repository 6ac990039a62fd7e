/**
 * Keys as their UTF-8 bytes: one hash and one equality that agree whether a key is given as bytes
 * (read from a topic or a snapshot) or as a JS string (asked for by a caller), so a bank can index
 * millions of keys without making a string for each. A string is taken as TextEncoder encodes it
 * (a lone surrogate as U+FFFD).
 */
import { isUtf8 as isValidUtf8 } from "node:buffer";

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const enc = new TextEncoder();
let scratch = new Uint8Array(256);

/** murmur3's finaliser, after FNV-1a or `hashPacked`: linear probing needs the low bits well mixed. */
function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/**
 * The hash of a key of up to INLINE_BYTES bytes, from its packed words: one multiply, where FNV
 * takes one a byte, one after another. Multiplying by an odd number is a bijection, so keys of one
 * `high` never collide.
 */
const hashPacked = (low: number, high: number): number => finish(Math.imul(low, 0x9e3779b1) ^ high);

/** FNV-1a of `data[start .. end]`, finished. */
function fnv(data: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ data[i]!, FNV_PRIME);
  return finish(h);
}

/** The hash of a key's UTF-8: from its packed words up to INLINE_BYTES, else FNV-1a. */
export function hashBytes(data: Uint8Array, start: number, length: number): number {
  return length > INLINE_BYTES ? fnv(data, start, start + length) : hashPacked(packedLow(data, start, length), packedHigh(data, start, length));
}

/** Reads a key from a record: sets `into.keyHash` to its `hashBytes` and returns whether it is valid UTF-8. */
export function readKey(data: Uint8Array, start: number, length: number, into: { keyHash: number }): boolean {
  into.keyHash = hashBytes(data, start, length);
  return isUtf8(data, start, length);
}

/** The UTF-8 of a non-ASCII string, in a buffer reused by the next call. */
function utf8Of(key: string): { bytes: Uint8Array; length: number } {
  if (scratch.length < key.length * 3) scratch = new Uint8Array(key.length * 3);
  return { bytes: scratch, length: enc.encodeInto(key, scratch).written };
}

/** `hashBytes` of the UTF-8 of `key`. */
export function hashString(key: string): number {
  hashAndPackString(key, oneHash, oneLow, oneHigh, 0);
  return oneHash[0]!;
}

const [oneHash, oneLow, oneHigh] = [new Int32Array(1), new Int32Array(1), new Int32Array(1)];

/**
 * Keys of up to 7 UTF-8 bytes (node ids, most often) are kept in a key table's slot as two words, so
 * that finding one reads its slot and nothing else: `low` holds bytes 0-3, `high` bytes 4-6 and the
 * length in its top byte (so it is ≥ 0). A longer key's `high` is its length, negated.
 */
export const INLINE_BYTES = 7;

/** The `low` word of the key `data[start .. start + length]` (0 for a long key). */
export function packedLow(data: Uint8Array, start: number, length: number): number {
  if (length > INLINE_BYTES) return 0;
  let low = 0;
  for (let i = 0; i < length && i < 4; i++) low |= data[start + i]! << (8 * i);
  return low;
}

/** The `high` word of the key `data[start .. start + length]`. */
export function packedHigh(data: Uint8Array, start: number, length: number): number {
  if (length > INLINE_BYTES) return -length;
  let high = length << 24;
  for (let i = 4; i < length; i++) high |= data[start + i]! << (8 * (i - 4));
  return high;
}

/**
 * The `hashBytes` of `key`'s UTF-8 into `hashes[i]`, and its packed words into `lows[i]` and
 * `highs[i]`, in one pass over an ASCII key's characters.
 */
export function hashAndPackString(key: string, hashes: Int32Array, lows: Int32Array, highs: Int32Array, i: number): void {
  const length = key.length;
  if (length > INLINE_BYTES) {
    let h = FNV_OFFSET;
    for (let j = 0; j < length; j++) {
      const c = key.charCodeAt(j);
      if (c >= 0x80) return hashAndPackUtf8(key, hashes, lows, highs, i);
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    hashes[i] = finish(h);
    lows[i] = 0;
    highs[i] = -length;
    return;
  }
  let low = 0;
  let high = length << 24;
  for (let j = 0; j < length; j++) {
    const c = key.charCodeAt(j);
    if (c >= 0x80) return hashAndPackUtf8(key, hashes, lows, highs, i);
    if (j < 4) low |= c << (8 * j);
    else high |= c << (8 * (j - 4));
  }
  hashes[i] = hashPacked(low, high);
  lows[i] = low;
  highs[i] = high;
}

function hashAndPackUtf8(key: string, hashes: Int32Array, lows: Int32Array, highs: Int32Array, i: number): void {
  const { bytes, length } = utf8Of(key);
  hashes[i] = hashBytes(bytes, 0, length);
  lows[i] = packedLow(bytes, 0, length);
  highs[i] = packedHigh(bytes, 0, length);
}

export function bytesEqual(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}

/** Whether `data[start .. start + length]` is the UTF-8 of `key`. */
export function bytesEqualString(data: Uint8Array, start: number, length: number, key: string): boolean {
  // UTF-8 is as long as the UTF-16 only when every unit is ASCII, and never shorter.
  if (length < key.length) return false;
  if (length === key.length) {
    for (let i = 0; i < length; i++) if (data[start + i] !== key.charCodeAt(i)) return false;
    return true;
  }
  const { bytes, length: n } = utf8Of(key);
  return n === length && bytesEqual(data, start, bytes, 0, length);
}

/** Writes the UTF-8 of `key` at `data[at ..]` (room for 3 bytes per UTF-16 unit); returns the length. */
export function writeUtf8(key: string, data: Uint8Array, at: number): number {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) return enc.encodeInto(key, data.subarray(at)).written;
    data[at + i] = c;
  }
  return key.length;
}

/**
 * Whether `data[start .. start + length]` is valid UTF-8. ASCII, the common case for node ids, is
 * checked in place; anything else by Node's validator.
 */
function isUtf8(data: Uint8Array, start: number, length: number): boolean {
  let i = start;
  const end = start + length;
  while (i < end && data[i]! < 0x80) i++;
  return i === end || isValidUtf8(data.subarray(i, end));
}
