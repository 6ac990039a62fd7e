import { ensureLength } from "./growable.ts";

/**
 * Node id ↔ dense int index. An id keeps its index for the store's life: deleting it leaves a hole
 * (reported, never given to another id) that the same id fills again if it comes back.
 */
export class NodeIndex {
  private readonly byId = new Map<string, number>();
  private readonly ids: string[] = [];
  private alive = new Uint8Array(1024);
  private live = 0;

  /** Indices ever assigned: alive nodes plus holes. */
  get size(): number {
    return this.ids.length;
  }

  get liveCount(): number {
    return this.live;
  }

  indexOf(id: string): number {
    return this.byId.get(id) ?? -1;
  }

  idOf(index: number): string {
    const id = this.ids[index];
    if (id === undefined) throw new RangeError(`no node has index ${index}`);
    return id;
  }

  isAlive(index: number): boolean {
    return this.alive[index] === 1;
  }

  /** The index of `id`, assigning one or reviving its hole as needed. */
  add(id: string): number {
    let index = this.byId.get(id);
    if (index === undefined) {
      index = this.ids.length;
      this.ids.push(id);
      this.byId.set(id, index);
      this.alive = ensureLength(this.alive, index + 1);
    }
    if (this.alive[index] === 0) {
      this.alive[index] = 1;
      this.live++;
    }
    return index;
  }

  /** Marks `id` deleted; returns its index, or -1 when it is not alive. */
  remove(id: string): number {
    const index = this.byId.get(id);
    if (index === undefined || this.alive[index] === 0) return -1;
    this.alive[index] = 0;
    this.live--;
    return index;
  }

  holes(): Int32Array {
    const out = new Int32Array(this.ids.length - this.live);
    let k = 0;
    for (let i = 0; i < this.ids.length; i++) if (this.alive[i] === 0) out[k++] = i;
    return out;
  }
}
