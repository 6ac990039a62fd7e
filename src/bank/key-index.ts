/**
 * Key → row for a bank of millions of keys, with no object per key: each row's key is kept as UTF-8
 * bytes in one arena, and an open-addressing table (linear probing) holds each key's hash and row,
 * and the key itself when it is short (see key-bytes.ts's packing), else where its bytes are. Keys
 * are added and found as bytes (restores) or as strings (callers); strings are made only when
 * someone asks for a row's key.
 */
import { INLINE_BYTES, bytesEqual, bytesEqualString, hashAndPackString, hashBytes, packedHigh, packedLow, writeUtf8 } from "./key-bytes.ts";

const MIN_SLOTS = 1024;
/** Words in a slot of the table. */
const SLOT = 4;

export class KeyIndex {
  /**
   * Row r's key is `rowKeys[2r + 1] - 1` bytes at `arena[rowKeys[2r] ..]`; a size of 0 means the
   * row has no key (so new rows need no fill). Side by side, one memory read finds both.
   */
  private rowKeys: Uint32Array;
  private arena: Uint8Array;
  /** `arena` as a Buffer, for decoding keys. */
  private arenaText: Buffer;
  private arenaUsed = 0;
  /** Arena bytes of removed keys, reclaimed by `compactArena`. */
  private arenaGarbage = 0;
  /**
   * Slot s is `table[4s]` = hash, `table[4s + 1]` = row + 1 (0: the slot is empty), `table[4s + 2]`
   * = the key's packed low word, or for a long key its arena offset, `table[4s + 3]` = its packed
   * high word (negative for a long key). A short key is found by reading its slot alone.
   */
  private table: Int32Array;
  private mask: number;
  private count = 0;

  constructor(rows: number) {
    this.rowKeys = new Uint32Array(rows * 2);
    this.arena = new Uint8Array(Math.max(1024, rows * 8));
    this.arenaText = asBuffer(this.arena);
    const slots = tableSlots(rows);
    this.table = new Int32Array(slots * SLOT);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Room for rows `0 .. rows - 1`. */
  reserveRows(rows: number): void {
    if (rows * 2 <= this.rowKeys.length) return;
    const rowKeys = new Uint32Array(rows * 2);
    rowKeys.set(this.rowKeys);
    this.rowKeys = rowKeys;
  }

  /** Room for `keys` keys in the table without rehashing. */
  reserveKeys(keys: number): void {
    const slots = tableSlots(keys);
    if (slots > this.mask + 1) this.rehash(slots);
  }

  hasKey(row: number): boolean {
    return 2 * row < this.rowKeys.length && this.rowKeys[2 * row + 1]! > 0;
  }

  /**
   * The row of the key `data[start .. start + length]` whose `hashBytes` is `hash`; else, as
   * `-1 - slot`, the empty slot where `addBytesAt` would put it (good until the next change).
   */
  probeBytes(data: Uint8Array, start: number, length: number, hash: number): number {
    const { table, mask, arena } = this;
    const low = packedLow(data, start, length);
    const high = packedHigh(data, start, length);
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const at = SLOT * s;
      const row = table[at + 1]! - 1;
      if (row < 0) return -1 - s;
      if (table[at] !== hash || table[at + 3] !== high) continue;
      if (high >= 0 ? table[at + 2] === low : bytesEqual(arena, table[at + 2]! >>> 0, data, start, length)) return row;
    }
  }

  /** The row of the key `data[start .. start + length]` whose `hashBytes` is `hash`, or -1. */
  findBytes(data: Uint8Array, start: number, length: number, hash: number): number {
    const row = this.probeBytes(data, start, length, hash);
    return row < 0 ? -1 : row;
  }

  find(key: string): number {
    if (keyScratch.length < key.length * 3) keyScratch = new Uint8Array(key.length * 3);
    const length = writeUtf8(key, keyScratch, 0);
    return this.findBytes(keyScratch, 0, length, hashBytes(keyScratch, 0, length));
  }

  /** The arrays `findRows` reads, valid until the index next changes. */
  get tables(): KeyTables {
    return { table: this.table, mask: this.mask, arena: this.arena };
  }

  /** Gives `row` (within `reserveRows`, without a key) the key `data[start .. start + length]`, at the empty slot `probeBytes` found for it. */
  addBytesAt(slot: number, row: number, data: Uint8Array, start: number, length: number, hash: number): void {
    this.reserveArena(length);
    const { arena, arenaUsed } = this;
    for (let i = 0; i < length; i++) arena[arenaUsed + i] = data[start + i]!;
    this.place(slot, row, length, hash);
  }

  /** Gives `row` the key `key`, which no row has. */
  add(row: number, key: string): void {
    this.reserveArena(key.length * 3);
    const length = writeUtf8(key, this.arena, this.arenaUsed);
    const hash = hashBytes(this.arena, this.arenaUsed, length);
    this.place(-1 - this.probeBytes(this.arena, this.arenaUsed, length, hash), row, length, hash);
  }

  /** Drops the key of `row`. */
  remove(row: number): void {
    const length = this.rowKeys[2 * row + 1]! - 1;
    if (length < 0) return;
    const { table, mask } = this;
    let hole = hashBytes(this.arena, this.rowKeys[2 * row]!, length) & mask;
    while (table[SLOT * hole + 1] !== row + 1) hole = (hole + 1) & mask;
    // Backward-shift deletion: pull later entries of the same probe run into the hole.
    for (let s = (hole + 1) & mask; table[SLOT * s + 1] !== 0; s = (s + 1) & mask) {
      const home = table[SLOT * s]! & mask;
      const between = hole <= s ? hole < home && home <= s : hole < home || home <= s;
      if (between) continue;
      table.copyWithin(SLOT * hole, SLOT * s, SLOT * s + SLOT);
      hole = s;
    }
    table.fill(0, SLOT * hole, SLOT * hole + SLOT);
    this.rowKeys[2 * row + 1] = 0;
    this.count--;
    this.arenaGarbage += length;
  }

  /** The key of `row` as a string, or undefined. */
  keyOf(row: number): string | undefined {
    const length = 2 * row < this.rowKeys.length ? this.rowKeys[2 * row + 1]! - 1 : -1;
    return length < 0 ? undefined : this.arenaText.toString("utf8", this.rowKeys[2 * row]!, this.rowKeys[2 * row]! + length);
  }

  /** The UTF-8 of `row`'s key, as a view valid until the next change. */
  keyBytesOf(row: number): Uint8Array | undefined {
    const length = 2 * row < this.rowKeys.length ? this.rowKeys[2 * row + 1]! - 1 : -1;
    return length < 0 ? undefined : this.arena.subarray(this.rowKeys[2 * row]!, this.rowKeys[2 * row]! + length);
  }

  /** Takes the key just written at the end of the arena; grows the table afterwards, so `slot` holds. */
  private place(slot: number, row: number, length: number, hash: number): void {
    const { arena, arenaUsed, table } = this;
    this.rowKeys[2 * row] = arenaUsed;
    this.rowKeys[2 * row + 1] = length + 1;
    this.arenaUsed += length;
    const at = SLOT * slot;
    table[at] = hash;
    table[at + 1] = row + 1;
    table[at + 2] = length > INLINE_BYTES ? arenaUsed : packedLow(arena, arenaUsed, length);
    table[at + 3] = packedHigh(arena, arenaUsed, length);
    this.count++;
    if (2 * this.count > this.mask + 1) this.rehash((this.mask + 1) * 2);
  }

  private rehash(slots: number): void {
    const old = this.table;
    const table = new Int32Array(slots * SLOT);
    const mask = slots - 1;
    for (let s = 0; s < old.length; s += SLOT) {
      if (old[s + 1] === 0) continue;
      let t = old[s]! & mask;
      while (table[SLOT * t + 1] !== 0) t = (t + 1) & mask;
      table.set(old.subarray(s, s + SLOT), SLOT * t);
    }
    [this.table, this.mask] = [table, mask];
  }

  private reserveArena(more: number): void {
    if (this.arenaUsed + more <= this.arena.length) return;
    if (this.arenaGarbage > this.arenaUsed / 2) this.compactArena();
    if (this.arenaUsed + more <= this.arena.length) return;
    const size = Math.max(this.arenaUsed + more, this.arena.length * 2);
    if (size > 2 ** 32) throw new RangeError(`bank keys need more than 4 GiB (${this.count} keys)`);
    const arena = new Uint8Array(size);
    arena.set(this.arena.subarray(0, this.arenaUsed));
    [this.arena, this.arenaText] = [arena, asBuffer(arena)];
  }

  /** Rewrites the arena with live keys only, in row order. */
  private compactArena(): void {
    const arena = new Uint8Array(this.arena.length);
    let used = 0;
    for (let row = 0; 2 * row < this.rowKeys.length; row++) {
      const length = this.rowKeys[2 * row + 1]! - 1;
      if (length < 0) continue;
      arena.set(this.arena.subarray(this.rowKeys[2 * row]!, this.rowKeys[2 * row]! + length), used);
      this.rowKeys[2 * row] = used;
      used += length;
    }
    [this.arena, this.arenaText, this.arenaUsed, this.arenaGarbage] = [arena, asBuffer(arena), used, 0];
    // Long keys' slots say where their bytes are.
    const { table } = this;
    for (let at = 0; at < table.length; at += SLOT) if (table[at + 1] !== 0 && table[at + 3]! < 0) table[at + 2] = this.rowKeys[2 * (table[at + 1]! - 1)]!;
  }
}

/** The arrays of a KeyIndex that `findRows` reads. */
export interface KeyTables {
  readonly table: Int32Array;
  readonly mask: number;
  readonly arena: Uint8Array;
}

/** Per key of a `findRows` call: its hash and packed words. */
export class FindScratch {
  hashes = new Int32Array(0);
  lows = new Int32Array(0);
  highs = new Int32Array(0);

  /** Room for `keys` keys. */
  reserve(keys: number): void {
    if (this.hashes.length >= keys) return;
    [this.hashes, this.lows, this.highs] = [new Int32Array(keys), new Int32Array(keys), new Int32Array(keys)];
  }
}

/** Where `find` writes the UTF-8 of its key. */
let keyScratch = new Uint8Array(64);

/**
 * What `findRows` leaves for a long key whose hash and length it found on another key's row (a
 * collision): the key may still be further on in the probe run.
 */
export const UNSURE = -2;
/** Where `findRows`'s warm-up reads go, so that they are not optimised away. */
let sink = 0;

/**
 * The slot of the key hashed and packed as `hash`, `low`, `high`, or -1 when absent. A long key's is
 * the first slot of its hash and length: its bytes are still to be compared.
 */
function slotOf(table: Int32Array, mask: number, hash: number, low: number, high: number): number {
  for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
    const at = SLOT * slot;
    if (table[at + 1] === 0) return -1;
    if (table[at] === hash && table[at + 3] === high && (high < 0 || table[at + 2] === low)) return slot;
  }
}

/**
 * The row of each key of `keys[start .. end]`, -1 where absent, or UNSURE (to be found with
 * `find`); the keys' hashes and packed words into `scratch`; returns how many are UNSURE. A
 * short key's row takes one memory read, its slot, likely a cache miss in a large bank: the slots
 * of all keys are read first, in a loop that does nothing else, so that their misses are under way
 * together (with a key's hashing between two reads, the processor could not look far enough ahead
 * to start more than a few). A long key's bytes are one more read, made the same way.
 */
export function findRows(keys: readonly string[], rows: Int32Array, scratch: FindScratch, table: Int32Array, mask: number, arena: Uint8Array, start: number, end: number): number {
  const { hashes, lows, highs } = scratch;
  let read = 0;
  for (let i = start; i < end; i++) hashAndPackString(keys[i]!, hashes, lows, highs, i);
  for (let i = start; i < end; i++) read ^= table[SLOT * (hashes[i]! & mask)]!;
  let long = 0;
  for (let i = start; i < end; i++) {
    const slot = slotOf(table, mask, hashes[i]!, lows[i]!, highs[i]!);
    rows[i] = slot < 0 ? -1 : table[SLOT * slot + 1]! - 1;
    if (slot >= 0 && highs[i]! < 0) {
      lows[i] = table[SLOT * slot + 2]!;
      long++;
    }
  }
  sink = read;
  return long === 0 ? 0 : confirmLongKeys(keys, rows, lows, highs, arena, start, end);
}

/** Compares the long keys `findRows` found with the bytes of the rows it found them on; returns how many are UNSURE. */
function confirmLongKeys(keys: readonly string[], rows: Int32Array, offsets: Int32Array, highs: Int32Array, arena: Uint8Array, start: number, end: number): number {
  let read = 0;
  for (let i = start; i < end; i++) if (rows[i]! >= 0 && highs[i]! < 0) read ^= arena[offsets[i]! >>> 0]!;
  sink = read;
  let unsure = 0;
  for (let i = start; i < end; i++) {
    if (rows[i]! < 0 || highs[i]! >= 0 || bytesEqualString(arena, offsets[i]! >>> 0, -highs[i]!, keys[i]!)) continue;
    rows[i] = UNSURE;
    unsure++;
  }
  return unsure;
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** A power of two with room for `keys` at a load of at most one half. */
function tableSlots(keys: number): number {
  let slots = MIN_SLOTS;
  while (slots < 2 * keys) slots *= 2;
  return slots;
}
