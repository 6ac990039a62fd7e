/**
 * A vector bank, materialised: follows `<namespace>.kb.<name>` into contiguous float32 storage and
 * answers batched lookups from memory, with versions, lag, waits for freshness, and snapshots.
 */
import type { Log } from "../log/types.ts";
import { BankFollower, type BankPosition } from "./follower.ts";
import type { StepCounts } from "./step-counts.ts";
import { BankView } from "./view.ts";
import type { NearestIndexOptions, NearestResult } from "./nearest/nearest-index.ts";
import { SyncedIndex } from "./nearest/synced-index.ts";
import { readSnapshotFile, writeSnapshotFile } from "./snapshot.ts";
import { bankTopics, ensureBankTopics } from "./topics.ts";
import { VectorApplier } from "./vector-applier.ts";
import type { LookupOptions, LookupResult, LookupResultWithSteps, VectorStore } from "./vector-store.ts";

export interface VectorBankViewOptions {
  /** The vectors' dimension; taken from the first record when absent. */
  readonly dim?: number;
  /** Keep applying new versions in the background (default true); else only `catchUp()` reads. */
  readonly follow?: boolean;
  /** Long-poll wait of the background reads (default 500 ms). */
  readonly pollWaitMs?: number;
  /** Restore from this snapshot file when it exists (then read only the topic's tail). */
  readonly snapshotPath?: string;
  /** Partitions, if the bank does not exist yet (default 4). */
  readonly partitions?: number;
  /** Materialise from the bank's history, moved only by `replayTo(position)`: the bank as a past reader saw it, even after compaction (replay). */
  readonly replay?: boolean;
  /** Settings of the HNSW index behind `nearest` (built on first use). */
  readonly nearest?: Omit<NearestIndexOptions, "dim">;
}

/** A nearest neighbour: its key and its distance (cosine: 1 − cos). */
export interface Neighbour {
  readonly key: string;
  readonly distance: number;
}

export class VectorBankView extends BankView {
  private constructor(follower: BankFollower, private readonly applier: VectorApplier, private readonly index: SyncedIndex) {
    super(follower);
  }

  private get store(): VectorStore | undefined {
    return this.applier.store;
  }

  static async open(log: Log, namespace: string, name: string, options: VectorBankViewOptions = {}): Promise<VectorBankView> {
    if (options.replay && options.snapshotPath) throw new Error("a replay view starts empty: it takes no snapshot");
    const topics = bankTopics(namespace, name);
    const partitions = await ensureBankTopics(log, topics, options.partitions);
    const index = new SyncedIndex(options.nearest ?? {});
    const applier = new VectorApplier(options.dim, index);
    let position: BankPosition | undefined;
    if (options.snapshotPath) {
      const offsets = await log.offsets(topics.bank);
      // The values are read straight into the store's storage.
      const snapshot = await readSnapshotFile(options.snapshotPath, (header) => {
        checkSnapshotFits(header, topics.bank, partitions, options.dim, offsets);
        return applier.storageFor(header.dim, header.count);
      });
      if (snapshot) applier.restore(snapshot.rows);
      position = snapshot?.header.position;
    }
    const follower = new BankFollower(log, topics, partitions, applier, position, options.replay ? "history" : "bank");
    const view = new VectorBankView(follower, applier, index);
    if (options.replay) return view;
    await follower.catchUp();
    if (options.follow ?? true) follower.start(options.pollWaitMs);
    return view;
  }

  /** The vectors' dimension, or undefined before the first vector arrives. */
  get dim(): number | undefined {
    return this.store?.dim;
  }

  get size(): number {
    return this.store?.size ?? 0;
  }

  protected get steps(): StepCounts | undefined {
    return this.store?.steps;
  }

  /**
   * The vectors of `keys`, as `keys.length × dim` floats. A key the bank does not hold is zeros
   * (default), an error, or what an initializer writes; `found` is the miss mask either way. With
   * `steps: true`, also each value's checkpoint step.
   */
  lookup(keys: readonly string[], options: LookupOptions & { readonly steps: true }): LookupResultWithSteps;
  lookup(keys: readonly string[], options?: LookupOptions): LookupResult;
  lookup(keys: readonly string[], options: LookupOptions = {}): LookupResult {
    return this.storeOrThrow().lookup(keys, options);
  }

  /** The checkpoint step a key's value came from, -1 when the bank does not hold it. */
  stepOf(key: string): number {
    return this.store?.stepOf(key) ?? -1;
  }

  /**
   * The k nearest keys of each of `keys` by their vectors, through the HNSW index (each key itself
   * left out). Keys the bank does not hold get an empty list.
   */
  async nearestOfKeys(keys: readonly string[], k: number): Promise<Neighbour[][]> {
    const store = this.storeOrThrow();
    const { values, found } = store.lookup(keys);
    const exclude = Int32Array.from(keys, (key) => store.rowOfKey(key));
    const result = await this.index.search(store, values, k, exclude);
    return keys.map((_, q) => (found[q] ? this.neighbours(result, q) : []));
  }

  /** The k nearest keys of a vector. */
  async nearest(vector: Float32Array, k: number): Promise<Neighbour[]> {
    return this.neighbours(await this.index.search(this.storeOrThrow(), vector, k), 0);
  }

  /** Writes what the view holds, and where it is in the topic, to `path` (atomically). */
  async snapshot(path: string): Promise<void> {
    const store = this.storeOrThrow();
    const position = this.follower.position();
    const rows = store.rows();
    await writeSnapshotFile(path, { topic: this.name, partitions: this.follower.partitions, dim: store.dim, count: rows.count, position }, rows);
  }

  /** The underlying storage, for readers that gather rows themselves (e.g. the nearest-neighbour index). */
  get vectors(): VectorStore | undefined {
    return this.store;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.index.close();
  }

  private neighbours(result: NearestResult, query: number): Neighbour[] {
    const out: Neighbour[] = [];
    for (let j = 0; j < result.k; j++) {
      const key = result.labels[query * result.k + j]! >= 0 ? this.store!.keyOfRowAt(result.labels[query * result.k + j]!) : undefined;
      if (key !== undefined) out.push({ key, distance: result.distances[query * result.k + j]! });
    }
    return out;
  }

  private storeOrThrow(): VectorStore {
    if (!this.store) throw new Error(`${this.name} holds no vectors yet, so its dim is unknown (pass dim when opening the view)`);
    return this.store;
  }
}

function checkSnapshotFits(header: { topic: string; partitions: number; dim: number; position: BankPosition }, topic: string, partitions: number, dim: number | undefined, offsets: readonly { highWatermark: number }[]): void {
  const problem =
    header.topic !== topic ? `it is of ${header.topic}` :
    header.partitions !== partitions ? `it has ${header.partitions} partitions, the topic ${partitions}` :
    dim !== undefined && header.dim !== dim ? `its dim is ${header.dim}, not ${dim}` :
    header.position.offsets.some((offset, p) => offset > offsets[p]!.highWatermark) ? "it is ahead of the topic (was the topic recreated?)" :
    undefined;
  if (problem) throw new Error(`snapshot does not fit ${topic}: ${problem}`);
}
