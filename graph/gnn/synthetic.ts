/**
 * A seeded random graph with homophilous edges and class-correlated dense features, for tests
 * and benchmarks that must not depend on downloaded data.
 */
import { Rng } from "./random.ts";
import { csrGraph, type CsrGraph } from "./sampler.ts";

export interface SyntheticGraphOptions {
  readonly numNodes: number;
  readonly classes: number;
  /** Mean number of neighbours per node (edges are drawn as avgDegree / 2 undirected edges per node). */
  readonly avgDegree: number;
  readonly featureDim: number;
  readonly seed: number;
  /** Probability that an edge joins two nodes of the same class; default 0.8. */
  readonly homophily?: number;
  /** Noise amplitude relative to the class centroids; default 1. */
  readonly noise?: number;
}

export interface SyntheticGraph {
  readonly graph: CsrGraph;
  /** numNodes × featureDim, row-major. */
  readonly features: Float32Array;
  readonly labels: Int32Array;
}

export function syntheticGraph(opts: SyntheticGraphOptions): SyntheticGraph {
  const { numNodes: n, classes, featureDim: dim } = opts;
  const rng = new Rng(opts.seed);
  const labels = new Int32Array(n);
  for (let v = 0; v < n; v++) labels[v] = rng.int(classes);

  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let v = 0; v < n; v++) byClass[labels[v]!]!.push(v);
  const perNode = Math.max(1, Math.round(opts.avgDegree / 2));
  const src = new Int32Array(n * perNode);
  const dst = new Int32Array(n * perNode);
  for (let v = 0, e = 0; v < n; v++) {
    const same = byClass[labels[v]!]!;
    for (let j = 0; j < perNode; j++, e++) {
      src[e] = v;
      dst[e] = rng.float() < (opts.homophily ?? 0.8) ? same[rng.int(same.length)]! : rng.int(n);
    }
  }

  const centroids = new Float32Array(classes * dim);
  rng.fillUniform(centroids, -1, 1);
  const noise = opts.noise ?? 1;
  const features = new Float32Array(n * dim);
  rng.fillUniform(features, -noise, noise);
  for (let v = 0; v < n; v++) {
    const c = labels[v]! * dim;
    for (let k = 0; k < dim; k++) features[v * dim + k]! += centroids[c + k]!;
  }
  return { graph: csrGraph({ src, dst }, n), features, labels };
}
