/**
 * Losses fed by the knowledge bank. Each term reads what its banks hold *now* (no waiting on
 * makers), turns it into constants for this step, and says which bank versions it used.
 */
import { NeighbourBankView } from "../bank/neighbour-view.ts";
import { VectorBankView } from "../bank/vector-view.ts";
import type { Log } from "../log/types.ts";
import type { BankVersion } from "../bank/view.ts";
import { hashBytes } from "../bank/key-bytes.ts";
import { KeyIndex } from "../bank/key-index.ts";
import type { DecodedNeighbourList } from "../schema/neighbour-list.ts";
import { NO_PSEUDO_LABEL } from "../makers/pseudo-labels.ts";
import * as tf from "../../graph/gnn/tf.ts";
import type { TrainingGraph } from "../../graph/store/types.ts";
import { bankTargets, graphRegularization, pseudoLabelLoss, type BankTargetOptions, type GraphDistance } from "./losses.ts";

/** One step's part of a knowledge term: the loss given the model's logits (all nodes, store order). */
export interface TermStep {
  readonly loss: (logits: tf.Tensor2D) => tf.Scalar;
  /** How many pairs or labels fed it this step. */
  readonly size: number;
}

/** A term as data: which banks it reads and its settings, so that a replay can build it again. */
export type TermSpec =
  | ({ readonly kind: "graph"; readonly predictions: string; readonly neighbours?: string } & Omit<GraphRegularizationTermOptions, "predictions" | "neighbours">)
  | ({ readonly kind: "pseudo"; readonly pseudoLabels: string } & Omit<PseudoLabelTermOptions, "pseudoLabels">);

/** Refuses term specs no term can be built from, naming the term and the setting. */
export function checkTermSpecs(specs: readonly TermSpec[]): void {
  specs.forEach((spec, i) => {
    const problem = (what: string) => new Error(`knowledge term ${i} (${JSON.stringify((spec as { kind?: unknown }).kind)}): ${what}`);
    if (spec.kind !== "graph" && spec.kind !== "pseudo") throw problem(`kind must be "graph" or "pseudo"`);
    if (!(Number.isFinite(spec.weight) && spec.weight >= 0)) throw problem(`weight must be a finite number ≥ 0, got ${spec.weight}`);
    const banks = spec.kind === "graph" ? { predictions: spec.predictions, ...(spec.neighbours !== undefined ? { neighbours: spec.neighbours } : {}) } : { pseudoLabels: spec.pseudoLabels };
    for (const [field, bank] of Object.entries(banks)) if (typeof bank !== "string" || bank.length === 0) throw problem(`${field} must name a bank, got ${JSON.stringify(bank)}`);
  });
}

/** The banks a term reads, by name. */
export function banksOf(spec: TermSpec): string[] {
  return spec.kind === "graph" ? [spec.predictions, ...(spec.neighbours ? [spec.neighbours] : [])] : [spec.pseudoLabels];
}

export interface KnowledgeTerm {
  readonly name: string;
  readonly weight: number;
  readonly spec: TermSpec;
  /** Undefined when the banks hold nothing usable yet. */
  prepare(graph: TrainingGraph): TermStep | undefined;
  /** The banks read, for the step record. */
  versions(): BankVersion[];
}

/** A term read from bank views on this thread: its constants are built here too. */
export interface ViewTerm extends KnowledgeTerm {
  /** What `prepare` turns into a loss: plain data, a function of the graph and the banks' positions only. */
  constants(graph: TrainingGraph): TermConstants | undefined;
}

/** A term's constants for a step, as plain data that can cross to another thread. */
export type TermConstants =
  | { readonly kind: "graph"; readonly rows: Int32Array; readonly neighbours: Int32Array; readonly values: Float32Array; readonly classes: number }
  | { readonly kind: "pseudo"; readonly rows: Int32Array; readonly labels: Int32Array; readonly confidences: Float32Array };

/** The loss that a term's constants give. */
function termStep(spec: TermSpec, constants: TermConstants): TermStep {
  if (constants.kind === "graph") {
    if (spec.kind !== "graph") throw new Error(`term ${spec.kind} was given graph constants`);
    const pairs = { rows: constants.rows, neighbours: constants.neighbours, values: constants.values };
    const loss = (logits: tf.Tensor2D) => {
      const width = logits.shape[1];
      if (width !== constants.classes) throw new Error(`graph term: bank ${spec.predictions} holds ${constants.classes} classes per node, the model outputs ${width}`);
      return graphRegularization(logits, pairs, { distance: spec.distance ?? "kl" });
    };
    return { size: pairs.rows.length, loss };
  }
  if (spec.kind !== "pseudo") throw new Error(`term ${spec.kind} was given pseudo-label constants`);
  const { rows, labels, confidences } = constants;
  return { size: rows.length, loss: (logits) => pseudoLabelLoss(logits, rows, labels, spec.weighByConfidence ? confidences : undefined) };
}

/** A term whose step is built from its constants, each rebuilt only when they change. */
export function stepsOf(spec: TermSpec, constants: (graph: TrainingGraph) => TermConstants | undefined): (graph: TrainingGraph) => TermStep | undefined {
  let last: { constants: TermConstants; step: TermStep } | undefined;
  return (graph) => {
    const now = constants(graph);
    if (!now) return undefined;
    if (last?.constants !== now) last = { constants: now, step: termStep(spec, now) };
    return last.step;
  };
}

/**
 * Rebuilds a term's constants only when one of its banks or the graph has moved since the last
 * step: the trainer still looks at the banks every step, but unchanged knowledge costs nothing.
 */
function memoised(banks: () => BankVersion[], build: (graph: TrainingGraph) => TermConstants | undefined): (graph: TrainingGraph) => TermConstants | undefined {
  let last: { key: string; constants: TermConstants | undefined } | undefined;
  return (graph) => {
    const key = JSON.stringify([graph.version, banks().map((b) => b.position.offsets)]);
    if (last?.key !== key) last = { key, constants: build(graph) };
    return last.constants;
  };
}

export interface GraphRegularizationTermOptions {
  /** Class probabilities of every node, written by the embeddings maker from the newest checkpoint. */
  readonly predictions: VectorBankView;
  /** Nearest neighbours by embedding (the dynamic graph); pairs from it are added to the graph's edges. */
  readonly neighbours?: NeighbourBankView;
  /** Whether the graph's own edges give pairs (default true). */
  readonly graphEdges?: boolean;
  readonly weight: number;
  /** Default "kl". */
  readonly distance?: GraphDistance;
  /** How the bank's predictions become targets; labelled training nodes are always clamped to their label. */
  readonly targets?: Omit<BankTargetOptions, "clamp">;
}

/**
 * Neural Structured Learning's neighbour loss with the neighbours' outputs read from the bank: no
 * forward pass over the neighbours, as in CARLS.
 */
export function graphRegularizationTerm(options: GraphRegularizationTermOptions): ViewTerm {
  const { predictions, neighbours, ...settings } = options;
  const versions = () => [predictions.version(), ...(neighbours ? [neighbours.version()] : [])];
  const targetsOf = bankTargetsOf(predictions, options.targets);
  const pairsOf = neighbourPairs(options);
  const spec: TermSpec = { kind: "graph", predictions: predictions.bankName, ...(neighbours ? { neighbours: neighbours.bankName } : {}), ...settings };
  const constants = memoised(versions, (graph): TermConstants | undefined => {
    const bank = targetsOf(graph);
    if (!bank) return undefined;
    const { classes, targets, found } = bank;
    const { rows, cols } = pairsOf(graph, found);
    if (rows.length === 0) return undefined;
    return { kind: "graph", rows, neighbours: cols, values: targets, classes };
  });
  return { name: "graph", weight: options.weight, spec, versions, constants, prepare: stepsOf(spec, constants) };
}

/**
 * Every node's target distribution: its bank prediction sharpened (uniform where the bank has none),
 * a labelled training node clamped to its label. Kept while the predictions and the graph hold, so a
 * new version of the neighbours alone reuses it.
 */
function bankTargetsOf(predictions: VectorBankView, options: GraphRegularizationTermOptions["targets"]): (graph: TrainingGraph) => { classes: number; targets: Float32Array; found: Uint8Array } | undefined {
  let last: { key: string; value: { classes: number; targets: Float32Array; found: Uint8Array } } | undefined;
  return (graph) => {
    const classes = predictions.dim;
    if (classes === undefined || predictions.size === 0) return undefined;
    const key = `${graph.version}/${predictions.version().position.offsets.join(",")}`;
    if (last?.key === key) return last.value;
    const ids = nodeIds(graph);
    const { values, found } = predictions.lookup(ids);
    const { train } = graph.masks();
    const labels = graph.labels();
    const clampRows = Int32Array.from(ids.keys()).filter((i) => train[i] === 1 && found[i] === 1 && labels[i]! >= 0);
    const probs = values.slice();
    for (let i = 0; i < ids.length; i++) if (!found[i]) probs.fill(1 / classes, i * classes, (i + 1) * classes);
    const targets = bankTargets(probs, classes, { ...options, clamp: { rows: clampRows, labels: Int32Array.from(clampRows, (r) => labels[r]!) } });
    last = { key, value: { classes, targets, found } };
    return last.value;
  };
}

/** `derive(graph)`, kept while the graph's version holds. */
function perGraphVersion<T>(derive: (graph: TrainingGraph) => T): (graph: TrainingGraph) => T {
  const cache = new WeakMap<TrainingGraph, { version: number; value: T }>();
  return (graph) => {
    const hit = cache.get(graph);
    if (hit?.version === graph.version) return hit.value;
    const value = derive(graph);
    cache.set(graph, { version: graph.version, value });
    return value;
  };
}

/** Every node id in store order. */
const nodeIds = perGraphVersion((graph) => Array.from({ length: graph.numNodes }, (_, i) => graph.idOf(i)));

/** Node index by the id's UTF-8, so that neighbour lists resolve their ids without making strings. */
const nodeIndexOfBytes = perGraphVersion((graph) => {
  const index = new KeyIndex(graph.numNodes);
  nodeIds(graph).forEach((id, i) => index.add(i, id));
  return index;
});

/** The node index of each of a list's ids (-1 for ids not in the graph), as `graph.indexOf` gives them. */
function resolveIds(list: DecodedNeighbourList, index: KeyIndex): Int32Array {
  const { idData, idStarts } = list;
  const indices = new Int32Array(idStarts.length - 1);
  for (let k = 0; k < indices.length; k++) {
    const start = idStarts[k]!;
    const length = idStarts[k + 1]! - start;
    indices[k] = index.findBytes(idData, start, length, hashBytes(idData, start, length));
  }
  return indices;
}

/**
 * The (node, neighbour) pairs of the graph term: graph edges and dynamic neighbours whose
 * neighbour has a prediction. They depend on the graph, the neighbour bank and which nodes have a
 * prediction, not on the predictions' values, so a new version of the predictions alone (every
 * checkpoint) reuses them.
 */
function neighbourPairs(options: Pick<GraphRegularizationTermOptions, "neighbours" | "graphEdges">): (graph: TrainingGraph, found: Uint8Array) => { rows: Int32Array; cols: Int32Array } {
  let last: { key: string; found: Uint8Array; pairs: { rows: Int32Array; cols: Int32Array } } | undefined;
  const { neighbours } = options;
  // A list keeps its resolved indices while it is the bank's current value (the graph's version is in the key).
  let resolved = new WeakMap<DecodedNeighbourList, Int32Array>();
  let resolvedFor = -1;
  return (graph, found) => {
    const key = `${graph.version}/${neighbours?.version().position.offsets.join(",") ?? ""}`;
    if (last && last.key === key && sameBytes(last.found, found)) return last.pairs;
    if (resolvedFor !== graph.version) [resolved, resolvedFor] = [new WeakMap(), graph.version];
    const edges = options.graphEdges ?? true;
    const { rowPtr, colIdx } = edges ? graph.snapshot() : { rowPtr: new Int32Array(graph.numNodes + 1), colIdx: new Int32Array(0) };
    const ids = neighbours ? nodeIds(graph) : [];
    const lists: (Int32Array | undefined)[] = ids.map((id) => {
      const list = neighbours!.get(id);
      if (!list) return undefined;
      let indices = resolved.get(list);
      if (!indices) {
        indices = resolveIds(list, nodeIndexOfBytes(graph));
        resolved.set(list, indices);
      }
      return indices;
    });
    const capacity = (edges ? rowPtr[graph.numNodes]! : 0) + lists.reduce((n, l) => n + (l?.length ?? 0), 0);
    const rows = new Int32Array(capacity);
    const cols = new Int32Array(capacity);
    let m = 0;
    if (edges) {
      for (let i = 0; i < graph.numNodes; i++) {
        for (let e = rowPtr[i]!; e < rowPtr[i + 1]!; e++) {
          const j = colIdx[e]!;
          if (found[j]) (rows[m] = i), (cols[m++] = j);
        }
      }
    }
    for (let i = 0; i < lists.length; i++) {
      const list = lists[i];
      if (!list) continue;
      for (let k = 0; k < list.length; k++) {
        const j = list[k]!;
        if (j >= 0 && found[j]) (rows[m] = i), (cols[m++] = j);
      }
    }
    last = { key, found, pairs: { rows: rows.slice(0, m), cols: cols.slice(0, m) } };
    return last.pairs;
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface PseudoLabelTermOptions {
  /** [class or -1, confidence] per node, written by the pseudo-labels maker. */
  readonly pseudoLabels: VectorBankView;
  readonly weight: number;
  /** Weigh each pseudo-label by its confidence (default false: every label above the threshold counts fully, as measured best). */
  readonly weighByConfidence?: boolean;
}

/** Cross-entropy on the confident pseudo-labels of nodes outside the training split. */
export function pseudoLabelTerm(options: PseudoLabelTermOptions): ViewTerm {
  const { pseudoLabels, ...settings } = options;
  const versions = () => [pseudoLabels.version()];
  const spec: TermSpec = { kind: "pseudo", pseudoLabels: pseudoLabels.bankName, ...settings };
  const constants = memoised(versions, (graph): TermConstants | undefined => {
    if (pseudoLabels.size === 0) return undefined;
    const ids = nodeIds(graph);
    const { values, found } = pseudoLabels.lookup(ids);
    const { train } = graph.masks();
    const rows: number[] = [];
    const labels: number[] = [];
    const confidences: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      if (!found[i] || train[i] === 1 || values[2 * i] === NO_PSEUDO_LABEL) continue;
      rows.push(i);
      labels.push(values[2 * i]!);
      confidences.push(values[2 * i + 1]!);
    }
    if (rows.length === 0) return undefined;
    return { kind: "pseudo", rows: Int32Array.from(rows), labels: Int32Array.from(labels), confidences: Float32Array.from(confidences) };
  });
  return { name: "pseudo", weight: options.weight, spec, versions, constants, prepare: stepsOf(spec, constants) };
}

/** The views a set of terms reads, opened from their specs, and the terms built over them. */
export interface OpenTerms {
  readonly terms: readonly ViewTerm[];
  /** By bank name. */
  readonly views: ReadonlyMap<string, VectorBankView | NeighbourBankView>;
  close(): Promise<void>;
}

/**
 * Opens the banks that `specs` read and builds the terms. Live views follow their topics; `replay`
 * views start empty and read the banks' history, moved by `replayTo` (see src/replay).
 */
export async function openTerms(log: Log, namespace: string, specs: readonly TermSpec[], options: { readonly replay?: boolean; readonly pollWaitMs?: number } = {}): Promise<OpenTerms> {
  checkTermSpecs(specs);
  const views = new Map<string, VectorBankView | NeighbourBankView>();
  const viewOptions = { ...(options.replay ? { replay: true } : {}), ...(options.pollWaitMs !== undefined ? { pollWaitMs: options.pollWaitMs } : {}) };
  const vectors = async (name: string) => {
    const view = views.get(name) ?? (await VectorBankView.open(log, namespace, name, viewOptions));
    if (!(view instanceof VectorBankView)) throw new Error(`bank ${name} is read both as vectors and as neighbour lists`);
    views.set(name, view);
    return view;
  };
  const lists = async (name: string) => {
    const view = views.get(name) ?? (await NeighbourBankView.open(log, namespace, name, viewOptions));
    if (!(view instanceof NeighbourBankView)) throw new Error(`bank ${name} is read both as vectors and as neighbour lists`);
    views.set(name, view);
    return view;
  };
  const close = async () => void (await Promise.all([...views.values()].map((v) => v.close())));
  try {
    const terms: ViewTerm[] = [];
    for (const spec of specs) {
      if (spec.kind === "graph") {
        const { kind: _, predictions, neighbours, ...settings } = spec;
        terms.push(graphRegularizationTerm({ ...settings, predictions: await vectors(predictions), ...(neighbours ? { neighbours: await lists(neighbours) } : {}) }));
      } else {
        const { kind: _, pseudoLabels, ...settings } = spec;
        terms.push(pseudoLabelTerm({ ...settings, pseudoLabels: await vectors(pseudoLabels) }));
      }
    }
    return { terms, views, close };
  } catch (error) {
    await close();
    throw error;
  }
}
