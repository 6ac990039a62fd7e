/**
 * The graph's edges as slots of typed arrays (src, dst, weight) with a pair → slot map and
 * per-node incidence lists, so lookups, node deletion and CSR snapshots never walk objects.
 * A freed slot (src = -1) is reused by the next edge.
 */
import { ensureLength } from "./growable.ts";
import { PairMap } from "./pair-map.ts";

export class EdgeTable {
  src = new Int32Array(0);
  dst = new Int32Array(0);
  /** NaN where the edge has no weight. */
  weight = new Float32Array(0);
  /** Slots in use or freed: src/dst/weight are meaningful below this. */
  slots = 0;
  private free = new Int32Array(0);
  private freeCount = 0;
  private weighted = 0;
  private readonly byPair = new PairMap();
  // Doubly linked incidence lists over "ends" (2 * slot for the src end, 2 * slot + 1 for the dst end).
  private head = new Int32Array(0);
  private next = new Int32Array(0);
  private prev = new Int32Array(0);

  constructor(private readonly directed: boolean) {}

  get count(): number {
    return this.slots - this.freeCount;
  }

  /** Edges with an explicit weight. */
  get weightedCount(): number {
    return this.weighted;
  }

  /** The slot of edge src → dst (either direction when undirected), or -1. */
  find(src: number, dst: number): number {
    return this.directed || src <= dst ? this.byPair.get(src, dst) : this.byPair.get(dst, src);
  }

  add(src: number, dst: number, weight: number | undefined): number {
    let slot: number;
    if (this.freeCount > 0) slot = this.free[--this.freeCount]!;
    else {
      slot = this.slots++;
      this.src = ensureLength(this.src, this.slots);
      this.dst = ensureLength(this.dst, this.slots);
      this.weight = ensureLength(this.weight, this.slots);
      this.next = ensureLength(this.next, 2 * this.slots);
      this.prev = ensureLength(this.prev, 2 * this.slots);
    }
    this.src[slot] = src;
    this.dst[slot] = dst;
    this.weight[slot] = NaN;
    this.setWeight(slot, weight);
    if (this.directed || src <= dst) this.byPair.set(src, dst, slot);
    else this.byPair.set(dst, src, slot);
    this.link(2 * slot, src);
    if (dst !== src) this.link(2 * slot + 1, dst);
    return slot;
  }

  setWeight(slot: number, weight: number | undefined): void {
    const had = !Number.isNaN(this.weight[slot]!);
    const has = weight !== undefined;
    this.weighted += Number(has) - Number(had);
    this.weight[slot] = has ? weight : NaN;
  }

  remove(slot: number): void {
    const src = this.src[slot]!;
    const dst = this.dst[slot]!;
    if (this.directed || src <= dst) this.byPair.delete(src, dst);
    else this.byPair.delete(dst, src);
    this.unlink(2 * slot, src);
    if (dst !== src) this.unlink(2 * slot + 1, dst);
    this.setWeight(slot, undefined);
    this.src[slot] = -1;
    this.dst[slot] = -1;
    this.free = ensureLength(this.free, this.freeCount + 1);
    this.free[this.freeCount++] = slot;
  }

  /** Slots of the edges touching `node`. */
  incident(node: number): number[] {
    const slots: number[] = [];
    for (let end = this.head[node] ?? -1; end >= 0; end = this.next[end]!) slots.push(end >> 1);
    return slots;
  }

  private link(end: number, node: number): void {
    this.head = ensureLength(this.head, node + 1, -1);
    const first = this.head[node]!;
    this.next[end] = first;
    this.prev[end] = -1;
    if (first >= 0) this.prev[first] = end;
    this.head[node] = end;
  }

  private unlink(end: number, node: number): void {
    const before = this.prev[end]!;
    const after = this.next[end]!;
    if (before >= 0) this.next[before] = after;
    else this.head[node] = after;
    if (after >= 0) this.prev[after] = before;
  }
}
