/**
 * Key → row for a bank of millions of keys, with no object per key: each row's key is kept as UTF-8
 * bytes in one arena, and an open-addressing table (linear probing) holds each key's hash and row.
 * Keys are added and found as bytes (restores) or as strings (callers); strings are made only when
 * someone asks for a row's key.
 */
import { bytesEqual, bytesEqualString, hashBytes, hashString, writeUtf8 } from "./key-bytes.ts";

const MIN_SLOTS = 1024;

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
  /** Slot s is `table[2s]` = hash, `table[2s + 1]` = row + 1, or 0 when the slot is empty. */
  private table: Int32Array;
  private mask: number;
  private count = 0;

  constructor(rows: number) {
    this.rowKeys = new Uint32Array(rows * 2);
    this.arena = new Uint8Array(Math.max(1024, rows * 8));
    this.arenaText = asBuffer(this.arena);
    const slots = tableSlots(rows);
    this.table = new Int32Array(slots * 2);
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
    const { table, mask, arena, rowKeys } = this;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const row = table[2 * s + 1]! - 1;
      if (row < 0) return -1 - s;
      if (table[2 * s] === hash && rowKeys[2 * row + 1] === length + 1 && bytesEqual(arena, rowKeys[2 * row]!, data, start, length)) return row;
    }
  }

  /** The row of the key `data[start .. start + length]` whose `hashBytes` is `hash`, or -1. */
  findBytes(data: Uint8Array, start: number, length: number, hash: number): number {
    const row = this.probeBytes(data, start, length, hash);
    return row < 0 ? -1 : row;
  }

  find(key: string): number {
    return this.findWithHash(key, hashString(key));
  }

  /** The arrays `findRows` reads, valid until the index next changes. */
  get tables(): KeyTables {
    return { table: this.table, mask: this.mask, rowKeys: this.rowKeys, arena: this.arena };
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
    while (table[2 * hole + 1] !== row + 1) hole = (hole + 1) & mask;
    // Backward-shift deletion: pull later entries of the same probe run into the hole.
    for (let s = (hole + 1) & mask; table[2 * s + 1] !== 0; s = (s + 1) & mask) {
      const home = table[2 * s]! & mask;
      const between = hole <= s ? hole < home && home <= s : hole < home || home <= s;
      if (between) continue;
      table[2 * hole] = table[2 * s]!;
      table[2 * hole + 1] = table[2 * s + 1]!;
      hole = s;
    }
    table[2 * hole] = 0;
    table[2 * hole + 1] = 0;
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

  /** `find` of a key whose `hashString` is `hash`. */
  findWithHash(key: string, hash: number): number {
    const { table, mask, arena, rowKeys } = this;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const row = table[2 * s + 1]! - 1;
      if (row < 0) return -1;
      if (table[2 * s] === hash && bytesEqualString(arena, rowKeys[2 * row]!, rowKeys[2 * row + 1]! - 1, key)) return row;
    }
  }

  /** Takes the key just written at the end of the arena; grows the table afterwards, so `slot` holds. */
  private place(slot: number, row: number, length: number, hash: number): void {
    this.rowKeys[2 * row] = this.arenaUsed;
    this.rowKeys[2 * row + 1] = length + 1;
    this.arenaUsed += length;
    this.table[2 * slot] = hash;
    this.table[2 * slot + 1] = row + 1;
    this.count++;
    if (2 * this.count > this.mask + 1) this.rehash((this.mask + 1) * 2);
  }

  private rehash(slots: number): void {
    const old = this.table;
    const table = new Int32Array(slots * 2);
    const mask = slots - 1;
    for (let s = 0; s < old.length; s += 2) {
      if (old[s + 1] === 0) continue;
      let t = old[s]! & mask;
      while (table[2 * t + 1] !== 0) t = (t + 1) & mask;
      table[2 * t] = old[s]!;
      table[2 * t + 1] = old[s + 1]!;
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
  }
}

/** The arrays of a KeyIndex that `findRows` reads. */
export interface KeyTables {
  readonly table: Int32Array;
  readonly mask: number;
  readonly rowKeys: Uint32Array;
  readonly arena: Uint8Array;
}

/**
 * What `findRows` leaves for a key whose hash it found on another key's row (a collision): the key
 * may still be further on in the probe run.
 */
export const UNSURE = -2;
/** Where `findRows`'s warm-up reads go, so that they are not optimised away. */
let sink = 0;

/** The row of the first slot of `hash`'s probe run that holds `hash`, or -1 when the run ends first (the key is absent). */
function firstRowWithHash(table: Int32Array, mask: number, hash: number): number {
  for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
    const row = table[2 * slot + 1]! - 1;
    if (row < 0 || table[2 * slot] === hash) return row;
  }
}

/**
 * The row of each key of `keys[start .. end]`, -1 where absent, or UNSURE (to be found with
 * `findWithHash`); the keys' hashes into `hashes`; returns how many are UNSURE. A key's row takes
 * three memory reads that depend on each other (table slot, row's key, key bytes), each likely a
 * cache miss in a large bank: they are made for all keys a step at a time, in loops that do little
 * else, so that the misses of many keys are under way together (with a key's hashing between two
 * reads, the processor could not look far enough ahead to start more than a few).
 */
export function findRows(keys: readonly string[], rows: Int32Array, hashes: Int32Array, table: Int32Array, mask: number, rowKeys: Uint32Array, arena: Uint8Array, start: number, end: number): number {
  let read = 0;
  for (let i = start; i < end; i++) hashes[i] = hashString(keys[i]!);
  for (let i = start; i < end; i++) read ^= table[2 * (hashes[i]! & mask)]!;
  for (let i = start; i < end; i++) {
    const row = firstRowWithHash(table, mask, hashes[i]!);
    rows[i] = row;
    if (row >= 0) read ^= rowKeys[2 * row]!;
  }
  for (let i = start; i < end; i++) if (rows[i]! >= 0) read ^= arena[rowKeys[2 * rows[i]!]!]!;
  sink = read;
  let unsure = 0;
  for (let i = start; i < end; i++) {
    const row = rows[i]!;
    if (row < 0 || bytesEqualString(arena, rowKeys[2 * row]!, rowKeys[2 * row + 1]! - 1, keys[i]!)) continue;
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
