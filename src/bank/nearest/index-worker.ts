/**
 * The worker side of NearestIndex: owns the hnswlib indexes. hnswlib blocks while it works and
 * is not safe for concurrent insert and search, so it lives on this one thread: searches are
 * answered as they arrive, writes run one after another, and long writes yield between slices
 * so that searches queued meanwhile are served (during a rebuild, from the old index).
 */
import { parentPort, workerData } from "node:worker_threads";
import hnswlib from "hnswlib-node";
import type { HierarchicalNSW } from "hnswlib-node";
import type { Space } from "./exact.ts";

/** Settings the worker is started with (validated on the main thread). */
export interface WorkerConfig {
  dim: number;
  space: Space;
  m: number;
  efConstruction: number;
  efSearch: number;
  seed: number;
  /** Longest stretch (ms) a write holds the thread before it lets queued searches in. */
  sliceMs: number;
}

export type Request =
  | { id: number; op: "upsert" | "rebuild"; labels: Int32Array; vectors: Float32Array }
  | { id: number; op: "remove"; labels: Int32Array }
  | { id: number; op: "search"; queries: Float32Array; k: number; exclude: Int32Array | undefined };

/** Stop: a write in progress ends at its next slice, later requests are dropped, and the thread exits on its own. */
export type Close = "close";

/** `size` is the serving index's point count once the request is done. Id 0 is the ready signal. */
export type Reply = { id: number; size: number } & ({ ok: true; labels?: Int32Array; distances?: Float32Array } | { ok: false; error: string });

/** One hnswlib index and the labels marked deleted in it (hnswlib does not expose that count). */
interface Served {
  index: HierarchicalNSW;
  deleted: Set<number>;
}

const config = workerData as WorkerConfig;
const port = parentPort!;
const point: number[] = new Array<number>(config.dim).fill(0); // hnswlib takes plain arrays only
let serving = create(1);
let writes: Promise<unknown> = Promise.resolve();
let closing = false;

function create(capacity: number): Served {
  const index = new hnswlib.HierarchicalNSW(config.space, config.dim);
  index.initIndex(Math.max(1, capacity), config.m, config.efConstruction, config.seed);
  index.setEf(config.efSearch);
  return { index, deleted: new Set() };
}

const sizeOf = (s: Served): number => s.index.getCurrentCount() - s.deleted.size;

function load(vectors: Float32Array, row: number): number[] {
  for (let j = 0, o = row * config.dim; j < config.dim; j++) point[j] = vectors[o + j]!;
  return point;
}

const yieldToQueue = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * `each(0)` .. `each(count - 1)`, letting queued searches in whenever a slice has held the thread
 * past `sliceMs` (the clock is read every `checkEvery` items), and ending early once closing.
 */
async function inSlices(count: number, checkEvery: number, each: (i: number) => void): Promise<void> {
  let sliceStart = performance.now();
  for (let i = 0; i < count; i++) {
    if (i % checkEvery === 0 && performance.now() - sliceStart > config.sliceMs) {
      await yieldToQueue();
      if (closing) throw new Error("closed");
      sliceStart = performance.now();
    }
    each(i);
  }
}

/** addPoint overwrites a label already present (and revives one marked deleted). */
async function add(target: Served, labels: Int32Array, vectors: Float32Array): Promise<void> {
  const { index } = target;
  const need = index.getCurrentCount() + labels.length;
  if (need > index.getMaxElements()) index.resizeIndex(Math.max(need, 2 * index.getMaxElements()));
  await inSlices(labels.length, 64, (i) => {
    target.deleted.delete(labels[i]!);
    index.addPoint(load(vectors, i), labels[i]!);
  });
}

function remove(target: Served, labels: Int32Array): Promise<void> {
  return inSlices(labels.length, 1024, (i) => {
    const label = labels[i]!;
    if (target.deleted.has(label)) return;
    try {
      target.index.markDelete(label);
      target.deleted.add(label);
    } catch {
      // not in the index: removing it is a no-op
    }
  });
}

interface Found {
  labels: Int32Array<ArrayBuffer>;
  distances: Float32Array<ArrayBuffer>;
}

function search(target: Served, queries: Float32Array, k: number, exclude: Int32Array | undefined): Found {
  const nq = queries.length / config.dim;
  const labels = new Int32Array(nq * k).fill(-1);
  const distances = new Float32Array(nq * k).fill(Infinity);
  if (sizeOf(target) === 0) return { labels, distances };
  // One extra so that dropping the excluded label still leaves k; hnswlib refuses k > capacity.
  const kk = Math.min(k + (exclude ? 1 : 0), target.index.getMaxElements());
  for (let q = 0; q < nq; q++) {
    const { neighbors, distances: d } = target.index.searchKnn(load(queries, q), kk);
    const skip = exclude ? exclude[q]! : -1;
    for (let t = 0, s = 0; t < neighbors.length && s < k; t++) {
      if (neighbors[t] === skip) continue;
      labels[q * k + s] = neighbors[t]!;
      distances[q * k + s] = d[t]!;
      s++;
    }
  }
  return { labels, distances };
}

/** Checked here rather than on the caller's thread: it reads every float. */
function checkFinite(name: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`${name}[${i}] is ${values[i]}; values must be finite`);
  }
}

async function write(request: Exclude<Request, { op: "search" }>): Promise<void> {
  if (closing) throw new Error("closed");
  if (request.op !== "remove") checkFinite("vectors", request.vectors);
  if (request.op === "upsert") return add(serving, request.labels, request.vectors);
  if (request.op === "remove") return remove(serving, request.labels);
  const next = create(request.labels.length);
  await add(next, request.labels, request.vectors);
  serving = next; // the old index is dropped here: searches from now on see the new contents
}

function reply(id: number, work: () => Promise<Found | void>): Promise<void> {
  return work().then(
    (result) => {
      const message: Reply = { id, size: sizeOf(serving), ok: true, ...result };
      port.postMessage(message, result ? [result.labels.buffer, result.distances.buffer] : []);
    },
    (error: unknown) => {
      const message: Reply = { id, size: sizeOf(serving), ok: false, error: error instanceof Error ? error.message : String(error) };
      port.postMessage(message);
    },
  );
}

// The thread is never terminated from outside: terminated inside a native call that throws (hnswlib's
// markDelete of a missing label, as `remove` relies on) it aborts the whole process.
port.on("message", (request: Request | Close) => {
  if (request === "close") {
    closing = true;
    void writes.finally(() => port.close());
  } else if (closing) return;
  else if (request.op === "search") {
    void reply(request.id, async () => {
      checkFinite("queries", request.queries);
      return search(serving, request.queries, request.k, request.exclude);
    });
  } else {
    writes = writes.then(() => reply(request.id, () => write(request)));
  }
});
port.postMessage({ id: 0, size: 0, ok: true } satisfies Reply);
