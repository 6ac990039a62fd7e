/**
 * Brute-force k nearest neighbours, the reference the HNSW index is measured against, and
 * recall@k between two results. Distances follow hnswlib's definitions, so the two compare.
 */

/** Distance spaces, as hnswlib defines them: `cosine` 1 − cos, `ip` 1 − dot, `l2` squared Euclidean. */
export type Space = "cosine" | "l2" | "ip";

/**
 * k nearest neighbours of each query, row-major `[queries × k]`, nearest first. Rows with fewer
 * than k neighbours are padded with label −1 and distance `Infinity`.
 */
export interface NearestResult {
  labels: Int32Array;
  distances: Float32Array;
  k: number;
}

/** Exact k nearest neighbours of `queries` among `vectors` (one row of `dim` floats per label). */
export function exactNearest(vectors: Float32Array, labels: Int32Array, dim: number, queries: Float32Array, k: number, space: Space = "cosine"): NearestResult {
  const n = labels.length;
  if (vectors.length !== n * dim) throw new RangeError(`exactNearest: vectors has ${vectors.length} floats, expected labels.length (${n}) × dim (${dim}) = ${n * dim}`);
  if (queries.length % dim !== 0) throw new RangeError(`exactNearest: queries has ${queries.length} floats, not a multiple of dim (${dim})`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`exactNearest: k must be an integer ≥ 1, got ${k}`);
  const nq = queries.length / dim;
  const norms = space === "cosine" ? rowNorms(vectors, dim) : undefined;
  const out: NearestResult = { labels: new Int32Array(nq * k).fill(-1), distances: new Float32Array(nq * k).fill(Infinity), k };
  const bestD = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let q = 0; q < nq; q++) {
    const qo = q * dim;
    const qNorm = norms ? rowNorms(queries.subarray(qo, qo + dim), dim)[0]! : 1;
    bestD.fill(Infinity);
    bestI.fill(-1);
    for (let i = 0; i < n; i++) {
      const o = i * dim;
      let d = 0;
      if (space === "l2") {
        for (let j = 0; j < dim; j++) {
          const t = vectors[o + j]! - queries[qo + j]!;
          d += t * t;
        }
      } else {
        let dot = 0;
        for (let j = 0; j < dim; j++) dot += vectors[o + j]! * queries[qo + j]!;
        d = 1 - (norms ? dot / (norms[i]! * qNorm) : dot);
      }
      if (d >= bestD[k - 1]!) continue;
      let s = k - 1;
      for (; s > 0 && bestD[s - 1]! > d; s--) {
        bestD[s] = bestD[s - 1]!;
        bestI[s] = bestI[s - 1]!;
      }
      bestD[s] = d;
      bestI[s] = i;
    }
    for (let s = 0; s < k && bestI[s]! >= 0; s++) {
      out.labels[q * k + s] = labels[bestI[s]!]!;
      out.distances[q * k + s] = bestD[s]!;
    }
  }
  return out;
}

/** Norm of each row; a zero row counts as norm 1 (hnswlib leaves it at zero, so its cosine is 0). */
function rowNorms(vectors: Float32Array, dim: number): Float64Array {
  const norms = new Float64Array(vectors.length / dim);
  for (let i = 0; i < norms.length; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += vectors[i * dim + j]! ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  return norms;
}

/**
 * recall@k: the share of `exact`'s neighbours (pads left out) that `approx` also found for the
 * same query. Both results must have the same shape.
 */
export function recallAtK(approx: NearestResult, exact: NearestResult): number {
  if (approx.k !== exact.k || approx.labels.length !== exact.labels.length) {
    throw new RangeError(`recallAtK: shapes differ (approx ${approx.labels.length / approx.k} × ${approx.k}, exact ${exact.labels.length / exact.k} × ${exact.k})`);
  }
  const k = exact.k;
  let found = 0;
  let total = 0;
  for (let row = 0; row < exact.labels.length; row += k) {
    const got = new Set(approx.labels.subarray(row, row + k));
    for (let s = 0; s < k; s++) {
      const label = exact.labels[row + s]!;
      if (label < 0) continue;
      total++;
      if (got.has(label)) found++;
    }
  }
  return total === 0 ? 1 : found / total;
}
