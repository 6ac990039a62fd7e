/**
 * The store's version (events applied) and, per node index, the version it last changed at. One
 * number per node keeps memory bounded however many events arrive; `changedSince` is a scan.
 */
import { ensureLength } from "./growable.ts";

export class ChangeTracker {
  private current = 0;
  private lastChanged = new Float64Array(0);

  get version(): number {
    return this.current;
  }

  /** Counts one applied event. */
  advance(): number {
    return ++this.current;
  }

  /** Records that node `index` changed in the current event. */
  touch(index: number): void {
    this.lastChanged = ensureLength(this.lastChanged, index + 1);
    this.lastChanged[index] = this.current;
  }

  /** Indices (ascending) of the nodes changed after `version`, among the first `numNodes`. */
  changedSince(version: number, numNodes: number): Int32Array {
    const out: number[] = [];
    const last = this.lastChanged;
    for (let i = 0; i < Math.min(numNodes, last.length); i++) if (last[i]! > version) out.push(i);
    return Int32Array.from(out);
  }
}
