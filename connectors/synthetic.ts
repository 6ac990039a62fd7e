/**
 * A seeded contextual stochastic block model, streamed as graph events: the embedded default
 * dataset. Classes are drawn uniformly; features are the class mean plus Gaussian noise; each node
 * draws a Poisson number of edges (mean avgDegree / 2, since every undirected edge is emitted once
 * by one of its ends) and connects each to a node of its own class with probability `homophily`,
 * else to a node of another class. Work and memory are O(N + E); nothing is N x N.
 */
import { xoroshiro128plus, type RandomGenerator } from "pure-rand";
import { denseVector, type GraphEvent, type Split } from "../src/schema/index.ts";
import type { GraphSource } from "./events.ts";

export interface SyntheticOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly classes: number;
  /** Mean number of edges per node (each undirected edge counts for both ends). */
  readonly avgDegree: number;
  /**
   * Target fraction of edges that join two nodes of the same class. With balanced classes this is
   * p_in / p_out = homophily (classes - 1) / (1 - homophily); give `pInOverPOut` to set that instead.
   */
  readonly homophily?: number;
  readonly pInOverPOut?: number;
  readonly featureDim: number;
  /** Standard deviation of each class mean's coordinates (default 1). */
  readonly classSeparation?: number;
  /** Standard deviation of the noise added to the class mean (default 1). */
  readonly featureNoise?: number;
  /** Fractions of nodes in train and val; the rest is test (default 0.1 / 0.1). */
  readonly split?: { readonly train: number; readonly val: number };
}

const TWO_32 = 2 ** 32;

/** Uniform doubles in (0, 1), Gaussian and Poisson draws, and integers, from one seeded stream. */
class Random {
  private readonly rng: RandomGenerator;
  private spare: number | undefined;
  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }
  uniform(): number {
    return ((this.rng.unsafeNext() >>> 0) + 0.5) / TWO_32;
  }
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
  gaussian(): number {
    if (this.spare !== undefined) {
      const spare = this.spare;
      this.spare = undefined;
      return spare;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
  poisson(mean: number): number {
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.gaussian()));
    const limit = Math.exp(-mean);
    let k = 0;
    for (let p = this.uniform(); p > limit; p *= this.uniform()) k++;
    return k;
  }
}

/** Independent streams for the parts of the model, so each is reproducible on its own. */
const streamSeed = (seed: number, stream: number) => (seed ^ Math.imul(stream + 1, 0x9e3779b9)) | 0;

export function homophilyOf(options: SyntheticOptions): number {
  if (options.homophily !== undefined) return options.homophily;
  if (options.pInOverPOut !== undefined) return options.pInOverPOut / (options.pInOverPOut + options.classes - 1);
  return 0.8;
}

function checkOptions(o: SyntheticOptions): void {
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`synthetic: ${name} must be a positive integer, got ${v}`);
  };
  positiveInt("nodes", o.nodes);
  positiveInt("classes", o.classes);
  positiveInt("featureDim", o.featureDim);
  if (!(o.avgDegree >= 0)) throw new RangeError(`synthetic: avgDegree must be >= 0, got ${o.avgDegree}`);
  const h = homophilyOf(o);
  if (!(h >= 0 && h <= 1)) throw new RangeError(`synthetic: homophily must be in [0, 1], got ${h}`);
  if (o.classes === 1 && h < 1) throw new RangeError("synthetic: with one class every edge is within the class; set homophily 1");
  const { train, val } = o.split ?? { train: 0.1, val: 0.1 };
  if (!(train >= 0 && val >= 0 && train + val <= 1)) throw new RangeError(`synthetic: split fractions train ${train} and val ${val} must be >= 0 and sum to <= 1`);
}

/** Node classes, and the nodes of each class contiguous in `members` (a CSR by class). */
function drawClasses(o: SyntheticOptions) {
  const random = new Random(streamSeed(o.seed, 0));
  const classOf = new Int32Array(o.nodes);
  const start = new Int32Array(o.classes + 1);
  for (let i = 0; i < o.nodes; i++) start[(classOf[i] = random.int(o.classes)) + 1]!++;
  for (let c = 0; c < o.classes; c++) start[c + 1]! += start[c]!;
  const members = new Int32Array(o.nodes);
  const fill = start.slice(0, o.classes);
  for (let i = 0; i < o.nodes; i++) members[fill[classOf[i]!]!++] = i;
  return { classOf, start, members };
}

/** The graph's events: every node (ids "0".."N-1"), then every edge, from event `from` on. */
export function* syntheticEvents(o: SyntheticOptions, from = 0): Generator<GraphEvent> {
  checkOptions(o);
  const { classOf, start, members } = drawClasses(o);
  const dim = o.featureDim;
  const means = new Float32Array(o.classes * dim);
  const meanRandom = new Random(streamSeed(o.seed, 1));
  for (let i = 0; i < means.length; i++) means[i] = (o.classSeparation ?? 1) * meanRandom.gaussian();

  const nodeRandom = new Random(streamSeed(o.seed, 2));
  const noise = o.featureNoise ?? 1;
  const { train, val } = o.split ?? { train: 0.1, val: 0.1 };
  let row = 0;
  for (let i = 0; i < o.nodes; i++) {
    const c = classOf[i]!;
    const u = nodeRandom.uniform();
    const split: Split = u < train ? "train" : u < train + val ? "val" : "test";
    const features = new Float32Array(dim);
    for (let d = 0; d < dim; d++) features[d] = means[c * dim + d]! + noise * nodeRandom.gaussian();
    if (row++ >= from) yield { kind: "node", id: String(i), label: c, split, features: denseVector(features) };
  }

  const edgeRandom = new Random(streamSeed(o.seed, 3));
  const h = homophilyOf(o);
  for (let u = 0; u < o.nodes; u++) {
    const c = classOf[u]!;
    const size = start[c + 1]! - start[c]!;
    for (let k = edgeRandom.poisson(o.avgDegree / 2); k > 0; k--) {
      let v: number;
      if (edgeRandom.uniform() < h) {
        if (size < 2) continue;
        do v = members[start[c]! + edgeRandom.int(size)]!;
        while (v === u);
      } else {
        if (size === o.nodes) continue;
        do v = edgeRandom.int(o.nodes);
        while (classOf[v] === c);
      }
      if (row++ >= from) yield { kind: "edge", src: String(Math.min(u, v)), dst: String(Math.max(u, v)) };
    }
  }
}

export function syntheticSource(options: SyntheticOptions): GraphSource {
  checkOptions(options);
  return {
    connector: "synthetic",
    resumes: "by-row",
    fingerprint: async () => JSON.stringify({ ...options, homophily: homophilyOf(options), pInOverPOut: undefined }),
    estimateRows: async () => Math.round(options.nodes * (1 + options.avgDegree / 2)),
    events: (from) => toAsync(syntheticEvents(options, from)),
  };
}

async function* toAsync<T>(events: Iterable<T>): AsyncGenerator<T> {
  yield* events;
}
