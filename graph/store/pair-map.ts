/**
 * (int, int) → int in flat typed arrays (open addressing, linear probing): a million edge lookups
 * without a Map's boxed double keys and the garbage they make.
 */
const EMPTY = -1;
const DELETED = -2;

export class PairMap {
  private first = new Int32Array(1024).fill(EMPTY);
  private second = new Int32Array(1024);
  private values = new Int32Array(1024);
  private live = 0;
  /** Live entries plus deleted markers: what probing has to step over. */
  private occupied = 0;

  get size(): number {
    return this.live;
  }

  /** The value of (a, b), or -1; a and b are non-negative. */
  get(a: number, b: number): number {
    const slot = this.find(a, b);
    return slot < 0 ? -1 : this.values[slot]!;
  }

  set(a: number, b: number, value: number): void {
    if (2 * (this.occupied + 1) > this.first.length) this.rehash(4 * (this.live + 1) > this.first.length ? 2 * this.first.length : this.first.length);
    const mask = this.first.length - 1;
    let reuse = -1;
    for (let i = hash(a, b) & mask; ; i = (i + 1) & mask) {
      const key = this.first[i]!;
      if (key === a && this.second[i] === b) {
        this.values[i] = value;
        return;
      }
      if (key === DELETED && reuse < 0) reuse = i;
      if (key === EMPTY) {
        const at = reuse >= 0 ? reuse : i;
        if (at === i) this.occupied++;
        this.first[at] = a;
        this.second[at] = b;
        this.values[at] = value;
        this.live++;
        return;
      }
    }
  }

  delete(a: number, b: number): void {
    const slot = this.find(a, b);
    if (slot < 0) return;
    this.first[slot] = DELETED;
    this.live--;
  }

  private find(a: number, b: number): number {
    const mask = this.first.length - 1;
    for (let i = hash(a, b) & mask; ; i = (i + 1) & mask) {
      const key = this.first[i]!;
      if (key === EMPTY) return -1;
      if (key === a && this.second[i] === b) return i;
    }
  }

  private rehash(capacity: number): void {
    const { first, second, values } = this;
    this.first = new Int32Array(capacity).fill(EMPTY);
    this.second = new Int32Array(capacity);
    this.values = new Int32Array(capacity);
    this.live = 0;
    this.occupied = 0;
    for (let i = 0; i < first.length; i++) if (first[i]! >= 0) this.set(first[i]!, second[i]!, values[i]!);
  }
}

function hash(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca6b);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}
