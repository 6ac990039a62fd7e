/**
 * NearestIndex: an HNSW nearest-neighbour index (hnswlib) that runs on a worker thread, so
 * building and searching never block the caller's event loop. Vectors cross to the worker as
 * transferred buffers, never as JSON.
 *
 * Ordering: writes (`rebuild`, `upsert`, `remove`) apply one after another, in call order.
 * Searches are answered as they arrive, from the index serving at that moment: during a
 * rebuild that is the old index, and it may show part of an upsert or removal still being applied.
 */
import { Worker } from "node:worker_threads";
import { tsWorkerSource } from "../../ts-worker.ts";
import type { Close, Reply, Request, WorkerConfig } from "./index-worker.ts";
import type { NearestResult, Space } from "./exact.ts";

export { exactNearest, recallAtK, type NearestResult, type Space } from "./exact.ts";

export interface NearestIndexOptions {
  /** Floats per vector. */
  dim: number;
  /** Default `cosine` (distance 1 − cos; vectors are normalised by hnswlib). `l2` is squared Euclidean, `ip` 1 − dot. */
  space?: Space;
  /** HNSW links per node (default 16). */
  m?: number;
  /** Candidate list size while building (default 200): higher builds slower, with better recall. */
  efConstruction?: number;
  /** Candidate list size while searching (default 64; at least k is used): higher is slower, with better recall. */
  efSearch?: number;
  /** Seed of hnswlib's level generator (default 100). */
  seed?: number;
}

export interface SearchOptions {
  /** One label per query to leave out of that query's results (−1: none), typically the query's own label. */
  exclude?: Int32Array;
}

interface Pending {
  op: string;
  resolve: (reply: Reply & { ok: true }) => void;
  reject: (error: Error) => void;
}

/** A request before it gets its id (distributes over the union, which Omit alone does not). */
type Unsent<T> = T extends unknown ? Omit<T, "id"> : never;

const WORKER_BOOTSTRAP = tsWorkerSource(new URL("./index-worker.ts", import.meta.url));

export class NearestIndex {
  readonly dim: number;
  readonly space: Space;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #size = 0;
  /** Set once closed or once the worker died: every call from then on rejects with it. */
  #failure: Error | undefined;

  private constructor(config: WorkerConfig) {
    this.dim = config.dim;
    this.space = config.space;
    this.#worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: config });
    this.#worker.on("message", (reply: Reply) => this.#settle(reply));
    this.#worker.on("error", (error) => this.#fail(new Error(`NearestIndex worker failed: ${error.message}`)));
    this.#exited = new Promise((resolve) =>
      this.#worker.on("exit", (code) => {
        this.#fail(new Error(`NearestIndex worker exited (code ${code})`));
        resolve();
      }),
    );
  }

  /** Starts the worker with an empty index. */
  static async open(options: NearestIndexOptions): Promise<NearestIndex> {
    const config: WorkerConfig = {
      dim: options.dim,
      space: options.space ?? "cosine",
      m: options.m ?? 16,
      efConstruction: options.efConstruction ?? 200,
      efSearch: options.efSearch ?? 64,
      seed: options.seed ?? 100,
      sliceMs: 10,
    };
    for (const key of ["dim", "m", "efConstruction", "efSearch"] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1) throw new RangeError(`NearestIndex.open: ${key} must be an integer ≥ 1, got ${config[key]}`);
    }
    if (!Number.isInteger(config.seed) || config.seed < 0) throw new RangeError(`NearestIndex.open: seed must be an integer ≥ 0, got ${config.seed}`);
    if (!["cosine", "l2", "ip"].includes(config.space)) throw new RangeError(`NearestIndex.open: space must be "cosine", "l2" or "ip", got ${JSON.stringify(config.space)}`);
    const index = new NearestIndex(config);
    await new Promise<unknown>((resolve, reject) => index.#pending.set(0, { op: "open", resolve, reject }));
    index.#worker.unref();
    return index;
  }

  /** Points in the serving index (as of the last answer from the worker). */
  get size(): number {
    return this.#size;
  }

  /**
   * Replaces the whole contents. The new index is built on the worker in slices while searches
   * keep being served by the old one, then swapped in at once. A label given twice keeps its last vector.
   */
  async rebuild(labels: Int32Array, vectors: Float32Array): Promise<void> {
    this.#checkPoints("rebuild", labels, vectors);
    const copy = { labels: labels.slice(), vectors: vectors.slice() };
    await this.#call({ op: "rebuild", ...copy }, [copy.labels.buffer, copy.vectors.buffer]);
  }

  /**
   * Inserts points, or overwrites the vector of labels already present; capacity grows as needed.
   * Slots of removed labels are only reclaimed by their label coming back or by `rebuild`.
   */
  async upsert(labels: Int32Array, vectors: Float32Array): Promise<void> {
    this.#checkPoints("upsert", labels, vectors);
    const copy = { labels: labels.slice(), vectors: vectors.slice() };
    await this.#call({ op: "upsert", ...copy }, [copy.labels.buffer, copy.vectors.buffer]);
  }

  /** Hides labels from searches. Labels not in the index are ignored. */
  async remove(labels: Int32Array): Promise<void> {
    checkLabels("remove", labels);
    const copy = labels.slice();
    await this.#call({ op: "remove", labels: copy }, [copy.buffer]);
  }

  /**
   * The k nearest points of each query (`queries`: one row of `dim` floats per query), nearest
   * first, padded with label −1 / distance Infinity when the index holds fewer than k points.
   */
  async search(queries: Float32Array, k: number, options: SearchOptions = {}): Promise<NearestResult> {
    if (!(queries instanceof Float32Array)) throw new TypeError("NearestIndex.search: queries must be a Float32Array");
    if (queries.length % this.dim !== 0) throw new RangeError(`NearestIndex.search: queries has ${queries.length} floats, not a multiple of dim (${this.dim})`);
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`NearestIndex.search: k must be an integer ≥ 1, got ${k}`);
    const { exclude } = options;
    if (exclude !== undefined) {
      if (!(exclude instanceof Int32Array)) throw new TypeError("NearestIndex.search: exclude must be an Int32Array (one label per query, −1 for none)");
      if (exclude.length !== queries.length / this.dim) throw new RangeError(`NearestIndex.search: exclude has ${exclude.length} labels, expected one per query (${queries.length / this.dim})`);
    }
    const copy = { queries: queries.slice(), exclude: exclude?.slice() };
    const reply = await this.#call({ op: "search", k, ...copy }, copy.exclude ? [copy.queries.buffer, copy.exclude.buffer] : [copy.queries.buffer]);
    return { labels: reply.labels!, distances: reply.distances!, k };
  }

  /**
   * Stops the worker and waits until it has exited: a write in progress ends at its next slice
   * (~10 ms), a search in progress once it is answered. Calls still pending, and every call after, reject.
   */
  async close(): Promise<void> {
    if (!this.#failure) {
      this.#fail(new Error("NearestIndex is closed"));
      this.#worker.ref();
      this.#worker.postMessage("close" satisfies Close);
    }
    await this.#exited;
  }

  #call(request: Unsent<Request>, transfer: ArrayBuffer[]): Promise<Reply & { ok: true }> {
    if (this.#failure) return Promise.reject(new Error(this.#failure.message));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { op: request.op, resolve, reject });
      this.#worker.ref(); // keep the process alive only while an answer is awaited
      this.#worker.postMessage({ ...request, id }, transfer);
    });
  }

  #settle(reply: Reply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    this.#size = reply.size;
    if (reply.ok) pending.resolve(reply);
    else pending.reject(new Error(`NearestIndex.${pending.op}: ${reply.error}`));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const pending of this.#pending.values()) pending.reject(new Error(`NearestIndex.${pending.op}: ${this.#failure.message}`));
    this.#pending.clear();
  }

  #checkPoints(op: string, labels: Int32Array, vectors: Float32Array): void {
    checkLabels(op, labels);
    if (!(vectors instanceof Float32Array)) throw new TypeError(`NearestIndex.${op}: vectors must be a Float32Array`);
    if (vectors.length !== labels.length * this.dim) {
      throw new RangeError(`NearestIndex.${op}: vectors has ${vectors.length} floats, expected labels.length (${labels.length}) × dim (${this.dim}) = ${labels.length * this.dim}`);
    }
  }
}

function checkLabels(op: string, labels: Int32Array): void {
  if (!(labels instanceof Int32Array)) throw new TypeError(`NearestIndex.${op}: labels must be an Int32Array`);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! < 0) throw new RangeError(`NearestIndex.${op}: labels[${i}] is ${labels[i]}; labels must be ≥ 0 (−1 pads results)`);
  }
}
