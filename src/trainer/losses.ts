/**
 * The losses a trainer adds when it is fed from the knowledge bank. What the bank holds is the
 * output of a model checkpoint a few steps old, written by makers; the trainer reads it as plain
 * numbers, so these losses treat every bank value as a constant: their gradient reaches the model's
 * outputs only, never the bank.
 *
 * Both losses are tfjs ops that run on any backend. graphRegularization computes its value and
 * its gradient in JavaScript over the pairs (as spmm does): a row selection by pair has no
 * gradient kernel on wasm (gather's gradient needs UnsortedSegmentSum), and neither do softmax,
 * exp, log, div or sqrt in carls' tfjs-core build. pseudoLabelLoss is built from a one-hot target
 * and logSoftmax, whose gradient tfjs-core defines itself.
 */
import { customOp } from "../../graph/gnn/custom-op.ts";
import * as tf from "../../graph/gnn/tf.ts";

/**
 * How far a node's output is from a neighbour's bank value (x = the node's output row, v = the
 * bank value; both d wide):
 * - `"kl"`: outputs are logits, bank values are class distributions (rows of probabilities summing
 *   to 1): KL(v ‖ softmax(x)) = Σ_c v_c (log v_c − log softmax(x)_c). Gradient softmax(x) − v.
 *   The one measured to work for node classification: with bank values from bankTargets (aligned,
 *   sharpened, labelled rows clamped) it pulls each node's predicted distribution towards its
 *   neighbours', a label propagation the model learns from features.
 * - `"softmax-l2"`: outputs are logits, bank values distributions: ‖softmax(x) − v‖².
 * - `"l2"`: the squared Euclidean distance ‖x − v‖², for values in the same space (e.g. embeddings).
 * - `"cosine"`: 1 − cos(x, v); 1 with zero gradient when either vector is zero.
 */
export type GraphDistance = "kl" | "softmax-l2" | "l2" | "cosine";

/**
 * Pairs (node, neighbour): the graph's edges and nearest neighbours by embedding alike. A
 * neighbour's bank value is a row of `values` that every pair with that neighbour shares (the
 * knowledge terms pass one row per graph node), not a copy per pair.
 */
export interface NeighbourPairs {
  /** rows[k] is the output row (the node) that pair k regularises. */
  readonly rows: Int32Array;
  /** neighbours[k] is the row of `values` that holds pair k's neighbour's bank value. */
  readonly neighbours: Int32Array;
  /** Row-major, (value rows) × d: bank values, each row as wide as the outputs (d). Constants. */
  readonly values: Float32Array;
  /** Non-negative weight of each pair; 1 for every pair when absent. */
  readonly weights?: Float32Array;
}

export interface GraphRegularizationOptions {
  readonly distance: GraphDistance;
  /**
   * `"mean"` (default): Σ_k w_k·dist_k / Σ_k w_k, the weighted mean over pairs.
   * `"sum"`: Σ_k w_k·dist_k, for callers that normalise through the weights (e.g. w = 1 / (n · degree)).
   */
  readonly reduction?: "mean" | "sum";
}

/**
 * Neural Structured Learning's neighbour loss: the weighted distance between each node's output
 * (outputs[rows[k]]) and its neighbour's bank value (values row neighbours[k]). 0 when there are
 * no pairs or no pair has weight. Differentiable with respect to `outputs` only.
 */
export function graphRegularization(outputs: tf.Tensor2D, pairs: NeighbourPairs, options: GraphRegularizationOptions): tf.Scalar {
  const name = "graphRegularization";
  const [n, d] = checkOutputs(name, outputs);
  const { rows, neighbours, values, weights } = pairs;
  const m = rows.length;
  checkRows(name, "rows", rows, n, "the outputs");
  const valueRows = d > 0 ? values.length / d : 0;
  if (!Number.isInteger(valueRows) || (d === 0 && values.length > 0)) throw new Error(`${name}: values has ${values.length} numbers, not a whole number of rows of the output width (${d})`);
  if (neighbours.length !== m) throw new Error(`${name}: ${m} rows but ${neighbours.length} neighbours; expected one neighbour per pair`);
  checkRows(name, "neighbours", neighbours, valueRows, "the values");
  if (weights) checkWeights(name, "weights", weights, m);
  checkFinite(name, values, d);
  const distance = options.distance;
  if (distance === "kl" || distance === "softmax-l2") checkDistributions(name, values, valueRows, d);
  else if (distance !== "l2" && distance !== "cosine") throw new Error(`${name}: unknown distance "${distance as string}"; use kl, softmax-l2, l2 or cosine`);
  const reduction = options.reduction ?? "mean";
  if (reduction !== "mean" && reduction !== "sum") throw new Error(`${name}: unknown reduction "${reduction as string}"; use mean or sum`);
  return graphRegularizationOp(outputs, { rows, neighbours, values, weights, distance, reduction, n, d }) as tf.Scalar;
}

const graphRegularizationOp = customOp((input, { rows, neighbours, values, weights, distance, reduction, n, d }: NeighbourPairs & { distance: GraphDistance; reduction: "mean" | "sum"; n: number; d: number }) => {
  const x = input.dataSync() as Float32Array;
  const pass: PairsPass = { x, rows, neighbours, values, weights, d, grad: new Float32Array(n * d) };
  const soft = distance === "kl" || distance === "softmax-l2" ? logSoftmaxRows(x, n, d) : NONE;
  // softmax(x) once per node and log(v) once per value row rather than once per pair: both are in many pairs.
  const total = pairsTotal(pass, distance, soft, expOf(soft), distance === "kl" ? logOf(values) : NONE);
  const { grad } = pass;
  const weightSum = weights ? sumOf(weights) : rows.length;
  const scale = reduction === "sum" ? 1 : weightSum > 0 ? 1 / weightSum : 0;
  if (scale !== 1) scaleInPlace(grad, scale);
  return {
    value: tf.scalar(total * scale),
    gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor2d(grad, [n, d])),
  };
});

const NONE = new Float64Array(0);

/** What pairsTotal reads, and `grad`, the outputs' gradient it adds each pair's (unscaled) into. */
interface PairsPass {
  readonly x: Float32Array;
  readonly rows: Int32Array;
  readonly neighbours: Int32Array;
  readonly values: Float32Array;
  readonly weights: Float32Array | undefined;
  readonly d: number;
  readonly grad: Float32Array;
}

/**
 * Σ_k w_k·dist_k over the pairs, adding each pair's gradient (unscaled) into `grad`. `soft` and
 * `probs` are the outputs' log-softmax and softmax (for kl and softmax-l2), `logValues` log(v) (kl).
 * It returns a number and nothing follows its loop: see scaleInPlace for why.
 */
function pairsTotal({ x, rows, neighbours, values, weights, d, grad }: PairsPass, distance: GraphDistance, soft: Float64Array, probs: Float64Array, logValues: Float64Array): number {
  let total = 0;
  for (let k = 0; k < rows.length; k++) {
    const w = weights ? weights[k]! : 1;
    if (w === 0) continue;
    const xo = rows[k]! * d;
    const vo = neighbours[k]! * d;
    if (distance === "kl") {
      let dist = 0;
      let mass = 0;
      for (let c = 0; c < d; c++) {
        const v = values[vo + c]!;
        mass += v;
        if (v > 0) dist += v * (logValues[vo + c]! - soft[xo + c]!);
      }
      total += w * dist;
      for (let c = 0; c < d; c++) grad[xo + c]! += w * (mass * probs[xo + c]! - values[vo + c]!);
    } else if (distance === "softmax-l2") {
      let dist = 0;
      let dot = 0;
      for (let c = 0; c < d; c++) {
        const p = probs[xo + c]!;
        const diff = p - values[vo + c]!;
        dist += diff * diff;
        dot += 2 * diff * p;
      }
      total += w * dist;
      for (let c = 0; c < d; c++) {
        const p = probs[xo + c]!;
        grad[xo + c]! += w * p * (2 * (p - values[vo + c]!) - dot);
      }
    } else if (distance === "l2") {
      let dist = 0;
      for (let c = 0; c < d; c++) {
        const diff = x[xo + c]! - values[vo + c]!;
        dist += diff * diff;
        grad[xo + c]! += 2 * w * diff;
      }
      total += w * dist;
    } else {
      let dot = 0;
      let xx = 0;
      let vv = 0;
      for (let c = 0; c < d; c++) {
        dot += x[xo + c]! * values[vo + c]!;
        xx += x[xo + c]! * x[xo + c]!;
        vv += values[vo + c]! * values[vo + c]!;
      }
      if (xx === 0 || vv === 0) {
        total += w;
        continue;
      }
      const nx = Math.sqrt(xx);
      const nv = Math.sqrt(vv);
      const cos = dot / (nx * nv);
      total += w * (1 - cos);
      for (let c = 0; c < d; c++) grad[xo + c]! -= w * (values[vo + c]! / (nx * nv) - (cos * x[xo + c]!) / xx);
    }
  }
  return total;
}

export interface PseudoLabelOptions {
  /**
   * `"mean"` (default): Σ_k c_k·CE_k / (number of pseudo-labels), so a confidence below 1 weakens
   * a label rather than being normalised away. `"sum"`: Σ_k c_k·CE_k.
   */
  readonly reduction?: "mean" | "sum";
}

/**
 * Softmax cross-entropy of logits[rows[k]] against the pseudo-label labels[k] (a class the bank
 * predicted confidently for an unlabelled node), weighted by confidences[k] (1 when absent).
 * 0 when there are no pseudo-labels. Differentiable with respect to `logits` only.
 */
export function pseudoLabelLoss(logits: tf.Tensor2D, rows: Int32Array, labels: Int32Array, confidences?: Float32Array, options: PseudoLabelOptions = {}): tf.Scalar {
  const name = "pseudoLabelLoss";
  const [n, classes] = checkOutputs(name, logits);
  const m = rows.length;
  checkRows(name, "rows", rows, n, "the outputs");
  if (labels.length !== m) throw new Error(`${name}: ${m} rows but ${labels.length} labels; expected one label per row`);
  checkLabels(name, labels, classes);
  if (confidences) checkWeights(name, "confidences", confidences, m);
  const reduction = options.reduction ?? "mean";
  if (reduction !== "mean" && reduction !== "sum") throw new Error(`${name}: unknown reduction "${reduction as string}"; use mean or sum`);
  const scale = reduction === "sum" || m === 0 ? 1 : 1 / m;
  const target = pseudoLabelTargets(n, classes, rows, labels, confidences, scale);
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(tf.tensor2d(target, [n, classes]), tf.logSoftmax(logits)))) as tf.Scalar);
}

/** One row per node: each pseudo-label's weight (confidence × scale) at its class. */
function pseudoLabelTargets(n: number, classes: number, rows: Int32Array, labels: Int32Array, confidences: Float32Array | undefined, scale: number): Float32Array {
  const target = new Float32Array(n * classes);
  for (let k = 0; k < rows.length; k++) target[rows[k]! * classes + labels[k]!]! += (confidences ? confidences[k]! : 1) * scale;
  return target;
}

function checkLabels(name: string, labels: Int32Array, classes: number): void {
  for (let k = 0; k < labels.length; k++) {
    const label = labels[k]!;
    if (!(Number.isInteger(label) && label >= 0 && label < classes)) throw new Error(`${name}: labels[${k}] = ${label} is not a class in 0..${classes - 1}`);
  }
}

function checkFinite(name: string, values: Float32Array, d: number): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new Error(`${name}: values[${i}] (row ${Math.floor(i / d)}) is ${values[i]}`);
  }
}

/** 1 / the mean probability of each class over the rows (0 for a class no row gives any). */
function alignmentScale(probs: Float32Array, n: number, classes: number): Float64Array {
  const mean = new Float64Array(classes);
  for (let i = 0; i < n; i++) for (let c = 0; c < classes; c++) mean[c]! += probs[i * classes + c]! / n;
  return mean.map((m) => (m > 0 ? 1 / m : 0));
}

/** Each row's probabilities times `scale`, raised to 1 / temperature and normalised (uniform where all are 0). */
function sharpenRows(probs: Float32Array, n: number, classes: number, scale: Float64Array, temperature: number): Float32Array {
  const out = new Float32Array(probs.length);
  const row = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += row[c] = Math.pow(probs[i * classes + c]! * scale[c]!, 1 / temperature);
    for (let c = 0; c < classes; c++) out[i * classes + c] = sum > 0 ? row[c]! / sum : 1 / classes;
  }
  return out;
}

/** Sets row rows[k] of `out` to the one-hot of labels[k]. */
function clampRows(name: string, out: Float32Array, n: number, classes: number, rows: Int32Array, labels: Int32Array): void {
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    const label = labels[k]!;
    if (!(r >= 0 && r < n)) throw new Error(`${name}: clamp.rows[${k}] = ${r} is not a row (there are ${n})`);
    if (!(Number.isInteger(label) && label >= 0 && label < classes)) throw new Error(`${name}: clamp.labels[${k}] = ${label} is not a class in 0..${classes - 1}`);
    out.fill(0, r * classes, (r + 1) * classes);
    out[r * classes + label] = 1;
  }
}

function checkOutputs(name: string, outputs: tf.Tensor): [number, number] {
  if (!(outputs instanceof tf.Tensor) || outputs.rank !== 2) {
    throw new Error(`${name}: outputs must be a rank-2 tensor (nodes × width), got ${outputs instanceof tf.Tensor ? `shape [${outputs.shape}]` : typeof outputs}`);
  }
  if (outputs.dtype !== "float32") throw new Error(`${name}: outputs must be float32, got ${outputs.dtype}`);
  return [outputs.shape[0]!, outputs.shape[1]!];
}

/** `indices` (named `what`) are rows of `of`, which has n rows. */
function checkRows(name: string, what: string, indices: Int32Array, n: number, of: string): void {
  if (!(indices instanceof Int32Array)) throw new Error(`${name}: ${what} must be an Int32Array`);
  for (let k = 0; k < indices.length; k++) {
    const r = indices[k]!;
    if (r < 0 || r >= n) throw new Error(`${name}: ${what}[${k}] = ${r} is not a row of ${of} (there are ${n})`);
  }
}

function checkWeights(name: string, what: string, weights: Float32Array, m: number): void {
  if (weights.length !== m) throw new Error(`${name}: ${what} has ${weights.length} entries, expected one per pair (${m})`);
  for (let k = 0; k < m; k++) {
    const w = weights[k]!;
    if (!(Number.isFinite(w) && w >= 0)) throw new Error(`${name}: ${what}[${k}] = ${w}; expected a finite number ≥ 0`);
  }
}

/** Bank values compared with a softmax must be class distributions: non-negative rows summing to 1. */
function checkDistributions(name: string, values: Float32Array, rows: number, d: number): void {
  for (let k = 0; k < rows; k++) {
    let sum = 0;
    for (let c = 0; c < d; c++) {
      const v = values[k * d + c]!;
      if (v < 0) throw new Error(`${name}: row ${k} of the values has a negative entry (${v}); this distance needs class probabilities`);
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) throw new Error(`${name}: row ${k} of the values sums to ${sum}, not 1; this distance needs class probabilities (e.g. the bank's softmax predictions)`);
  }
}

// Plain loops: TypedArray map and from with a callback are several times slower. Each in a
// function of its own with nothing after the loop: V8 compiles a long loop while it runs, before
// the code after it has ever run, and in this Node deoptimised there on every later call.

function sumOf(x: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]!;
  return sum;
}

function scaleInPlace(x: Float32Array, scale: number): void {
  for (let i = 0; i < x.length; i++) x[i]! *= scale;
}

function expOf(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.exp(x[i]!);
  return out;
}

/** log(v), 0 where v ≤ 0 (those entries add nothing to KL). */
function logOf(values: Float32Array): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > 0) out[i] = Math.log(v);
  }
  return out;
}

/** Row-wise log-softmax of a row-major n × d array, in float64 arithmetic. */
function logSoftmaxRows(x: Float32Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d);
  for (let r = 0, o = 0; r < n; r++, o += d) {
    let max = -Infinity;
    for (let c = 0; c < d; c++) max = Math.max(max, x[o + c]!);
    let sum = 0;
    for (let c = 0; c < d; c++) sum += Math.exp(x[o + c]! - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < d; c++) out[o + c] = x[o + c]! - lse;
  }
  return out;
}

export interface BankTargetOptions {
  /**
   * Distribution alignment: divide each class's column by its mean over all rows, then renormalise
   * each row. Without it, a regulariser that pulls soft predictions towards their neighbours' drifts
   * into predicting one class everywhere. Default false.
   */
  readonly align?: boolean;
  /** Sharpening: each row raised to the power 1 / temperature, then renormalised; default 1 (none). */
  readonly temperature?: number;
  /** Rows replaced by the one-hot of their known label (the labelled nodes), applied last. */
  readonly clamp?: { readonly rows: Int32Array; readonly labels: Int32Array };
}

/**
 * Turns the bank's predicted class distributions (row-major, one row of `classes` probabilities per
 * node) into the targets graphRegularization compares with: aligned, sharpened and clamped as
 * `options` say. Returns a new array; `probs` is not changed.
 */
export function bankTargets(probs: Float32Array, classes: number, options: BankTargetOptions = {}): Float32Array {
  const name = "bankTargets";
  if (!(Number.isInteger(classes) && classes > 0)) throw new Error(`${name}: classes must be a positive integer, got ${classes}`);
  if (probs.length % classes !== 0) throw new Error(`${name}: ${probs.length} values is not a whole number of rows of ${classes} classes`);
  const n = probs.length / classes;
  checkDistributions(name, probs, n, classes);
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0 && Number.isFinite(temperature))) throw new Error(`${name}: temperature must be a positive number, got ${temperature}`);
  const scale = options.align && n > 0 ? alignmentScale(probs, n, classes) : new Float64Array(classes).fill(1);
  const out = sharpenRows(probs, n, classes, scale, temperature);
  if (options.clamp) {
    const { rows, labels } = options.clamp;
    if (labels.length !== rows.length) throw new Error(`${name}: clamp has ${rows.length} rows but ${labels.length} labels`);
    clampRows(name, out, n, classes, rows, labels);
  }
  return out;
}
