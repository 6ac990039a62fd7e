/**
 * An HNSW index that follows a vector store: the store reports changed and deleted rows, and before
 * each search the index applies them, incrementally when few changed, by a rebuild (swapped in
 * atomically in the worker) when many did, as after a new checkpoint. Labels are store rows.
 */
import type { VectorStore } from "../vector-store.ts";
import { NearestIndex, type NearestIndexOptions, type NearestResult } from "./nearest-index.ts";
import { firstNonFinite } from "../finite.ts";

/** Above this fraction of changed rows, a rebuild is cheaper than updating in place. */
const REBUILD_FRACTION = 0.25;

export class SyncedIndex {
  private readonly changed = new Set<number>();
  private readonly removed = new Set<number>();
  private index: Promise<NearestIndex> | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private built = false;

  constructor(private readonly options: Omit<NearestIndexOptions, "dim">) {}

  rowChanged(row: number): void {
    // Until the first search there is no index to keep in step: it is built from every row then.
    if (!this.index) return;
    this.changed.add(row);
    this.removed.delete(row);
  }

  rowRemoved(row: number): void {
    if (!this.index) return;
    this.changed.delete(row);
    this.removed.add(row);
  }

  /** k nearest rows of each query (rows × dim), after bringing the index up to date with `store`. */
  async search(store: VectorStore, queries: Float32Array, k: number, exclude?: Int32Array): Promise<NearestResult> {
    const index = await (this.index ??= NearestIndex.open({ ...this.options, dim: store.dim }));
    await this.sync(store, index);
    return index.search(queries, k, exclude ? { exclude } : {});
  }

  async close(): Promise<void> {
    if (this.index) await (await this.index).close();
  }

  private sync(store: VectorStore, index: NearestIndex): Promise<void> {
    const synced = this.syncing.then(async () => {
      if (this.built && this.changed.size === 0 && this.removed.size === 0) return;
      const rebuild = !this.built || this.changed.size + this.removed.size > REBUILD_FRACTION * store.size;
      // A row with a NaN or infinite value has no distance to anything: it stays out of the index (and leaves it, if it was in) until it is finite again.
      const rows: number[] = [];
      const leaving = [...this.removed];
      for (const row of rebuild ? store.liveRows() : this.changed) (firstNonFinite(store.storage, row * store.dim, (row + 1) * store.dim) < 0 ? rows : leaving).push(row);
      const removed = rebuild ? new Int32Array(0) : Int32Array.from(leaving);
      this.changed.clear();
      this.removed.clear();
      const labels = Int32Array.from(rows);
      const vectors = new Float32Array(rows.length * store.dim);
      rows.forEach((row, i) => vectors.set(store.storage.subarray(row * store.dim, (row + 1) * store.dim), i * store.dim));
      if (rebuild) {
        await index.rebuild(labels, vectors);
        this.built = true;
        return;
      }
      if (removed.length > 0) await index.remove(removed);
      if (labels.length > 0) await index.upsert(labels, vectors);
    });
    // A failed sync leaves the index's contents unknown: the next one rebuilds it from every row.
    this.syncing = synced.catch(() => {
      this.built = false;
    });
    return synced;
  }
}
