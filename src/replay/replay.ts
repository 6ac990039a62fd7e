/**
 * Replay: runs a recorded trainer again on exactly the inputs it saw, from the topics alone. The
 * graph is read up to the recorded offsets (and checked against the recorded fingerprint); before
 * each step the bank views are moved, through the banks' history, to the positions the original
 * step recorded; makers do not run. Every step's loss, terms, accuracy and bank versions, every
 * checkpoint's weights and the final result are compared with the original, bit for bit.
 */
import { initBackend } from "../../graph/gnn/backend.ts";
import type { NamedWeight } from "../../graph/gnn/model.ts";
import { buildModel, graphInputs } from "../../graph/models.ts";
import { graphFingerprint } from "../../graph/store/fingerprint.ts";
import { GraphStore } from "../../graph/store/graph-store.ts";
import { bankNameOf } from "../bank/topics.ts";
import { readPartition } from "../log/read-all.ts";
import type { Log } from "../log/types.ts";
import { checkpointTopic, readCheckpoints } from "../schema/checkpoint-topic.ts";
import { openTerms } from "../trainer/knowledge.ts";
import { trainingLoop, type StepRecord, type TrainResult } from "../trainer/loop.ts";
import { metricsTopic } from "../trainer/trainer.ts";
import { readManifest, type RunManifest, type TopicRange } from "./manifest.ts";
import { replayProblems, ReplayRefused } from "./retention.ts";

export interface ReplayOptions {
  readonly log: Log;
  readonly namespace: string;
  readonly runId: string;
  readonly onStep?: (step: number, of: number) => void;
}

export interface Divergence {
  readonly step: number;
  /** What differs, such as `loss`, `terms.pseudo.value`, `banks[0].size`, `weights.gcn/w0[17]`, `result.accuracy.test`. */
  readonly what: string;
  readonly original: unknown;
  readonly replayed: unknown;
}

export interface ReplayReport {
  readonly runId: string;
  /** True when every compared value is bit-identical. */
  readonly identical: boolean;
  readonly firstDivergence?: Divergence;
  readonly steps: number;
  readonly checkpointsCompared: number;
  readonly backend: string;
  readonly originalBackend: string;
  readonly seconds: number;
  /** The original trainer's wall time. */
  readonly originalSeconds: number | undefined;
}

const dec = new TextDecoder();
const range = (manifest: RunManifest, topic: string): TopicRange => {
  const found = manifest.topics.find((t) => t.topic === topic);
  if (!found) throw new ReplayRefused(`run ${manifest.id}: its manifest records no range of ${topic}`);
  return found;
};

export async function replayRun(options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  const { log, namespace } = options;
  const manifest = await readManifest(log, namespace, options.runId);
  const problems = await replayProblems(log, manifest);
  if (problems.length > 0) throw new ReplayRefused(`run ${manifest.id} cannot be replayed exactly:\n  - ${problems.join("\n  - ")}`);
  const backend = await initBackend();

  const graph = await GraphStore.open(log, namespace, { until: manifest.graph.positions });
  if (graphFingerprint(graph) !== manifest.graph.fingerprint) {
    throw new ReplayRefused(`run ${manifest.id} cannot be replayed exactly: the graph topics up to the recorded offsets no longer hold the graph it trained on (they were compacted since, so superseded events are gone). Keep graph topics uncompacted up to a run's offsets to keep it replayable.`);
  }
  const metrics = range(manifest, metricsTopic(namespace));
  const original: StepRecord[] = [];
  for await (const record of readPartition(log, metrics.topic, 0, metrics.from[0], metrics.to[0])) original.push(JSON.parse(dec.decode(record.value!)) as StepRecord);
  const checkpoints = range(manifest, checkpointTopic(namespace));
  const weightsAt = new Map<number, readonly NamedWeight[]>();
  for await (const checkpoint of readCheckpoints(log, namespace, checkpoints.from[0]!, checkpoints.to[0]!)) weightsAt.set(checkpoint.step, checkpoint.weights);

  const recipe = manifest.trainer;
  // A run that was stopped (or failed) ended before its recipe's steps: replay what it did.
  const steps = manifest.result?.steps ?? original.length;
  const model = buildModel(recipe.spec);
  const inputs = graphInputs(graph, recipe.spec.kind);
  const knowledge = await openTerms(log, namespace, recipe.knowledge, { replay: true });
  const stop = new AbortController();
  let divergence: Divergence | undefined;
  const diverge = (d: Divergence) => {
    divergence ??= d;
    stop.abort();
  };
  let compared = 0;
  let result: TrainResult;
  try {
    result = await trainingLoop(
      { graph, model, inputs: inputs.inputs, steps, learningRate: recipe.learningRate, checkpointEvery: recipe.checkpointEvery, knowledge: knowledge.terms, ...(recipe.patience !== undefined ? { patience: recipe.patience } : {}), signal: stop.signal },
      {
        beforeStep: async (step) => {
          const recorded = original[step - 1];
          if (!recorded || recorded.step !== step) return diverge({ step, what: "step", original: recorded?.step, replayed: step });
          for (const version of recorded.banks) {
            const view = knowledge.views.get(bankNameOf(version.bank));
            if (!view) return diverge({ step, what: `banks: ${version.bank}`, original: "read", replayed: "not read" });
            await view.replayTo(version.position);
          }
        },
        afterStep: async (record) => {
          // beforeStep stopped the loop where the original has no record of the step.
          const difference = firstDifference(original[record.step - 1]!, record);
          if (difference) diverge({ step: record.step, ...difference });
          options.onStep?.(record.step, steps);
        },
        checkpoint: async (step, weights) => {
          const recorded = weightsAt.get(step);
          if (!recorded) return diverge({ step, what: "checkpoint", original: "missing", replayed: "written" });
          const difference = weightsDifference(recorded, weights);
          if (difference) diverge({ step, ...difference });
          compared++;
        },
      },
    );
  } finally {
    await knowledge.close();
    model.dispose();
    inputs.dispose();
  }
  if (!divergence && manifest.result) {
    const difference = resultDifference(manifest.result, result);
    if (difference) divergence = { step: result.steps, ...difference };
  }
  return {
    runId: manifest.id,
    identical: divergence === undefined,
    ...(divergence ? { firstDivergence: divergence } : {}),
    steps: result.steps,
    checkpointsCompared: compared,
    backend: backend.name,
    originalBackend: manifest.backend,
    seconds: (performance.now() - started) / 1000,
    originalSeconds: manifest.seconds,
  };
}

type Difference = Omit<Divergence, "step">;

function firstDifference(original: StepRecord, replayed: StepRecord): Difference | undefined {
  if (!Object.is(original.loss, replayed.loss)) return { what: "loss", original: original.loss, replayed: replayed.loss };
  for (const key of ["train", "val"] as const) {
    if (!Object.is(original.accuracy[key], replayed.accuracy[key])) return { what: `accuracy.${key}`, original: original.accuracy[key], replayed: replayed.accuracy[key] };
  }
  const names = new Set([...Object.keys(original.terms), ...Object.keys(replayed.terms)]);
  for (const name of names) {
    const [a, b] = [original.terms[name], replayed.terms[name]];
    if (!a || !b) return { what: `terms.${name}`, original: a, replayed: b };
    if (a.size !== b.size) return { what: `terms.${name}.size`, original: a.size, replayed: b.size };
    if (!Object.is(a.value, b.value)) return { what: `terms.${name}.value`, original: a.value, replayed: b.value };
  }
  if (original.banks.length !== replayed.banks.length) return { what: "banks", original: original.banks.length, replayed: replayed.banks.length };
  for (let i = 0; i < original.banks.length; i++) {
    const [a, b] = [original.banks[i]!, replayed.banks[i]!];
    // JSON turned the empty bank's ±Infinity steps into null.
    const steps = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);
    for (const key of ["size", "minStep", "maxStep"] as const) {
      if (steps(a[key]) !== steps(b[key])) return { what: `banks[${i}].${key} (${a.bank})`, original: a[key], replayed: b[key] };
    }
    if (a.position.historyOffsets.join() !== b.position.historyOffsets.join()) return { what: `banks[${i}].historyOffsets (${a.bank})`, original: a.position.historyOffsets, replayed: b.position.historyOffsets };
  }
  return undefined;
}

function weightsDifference(original: readonly NamedWeight[], replayed: readonly NamedWeight[]): Difference | undefined {
  if (original.length !== replayed.length) return { what: "weights", original: original.length, replayed: replayed.length };
  for (let w = 0; w < original.length; w++) {
    const [a, b] = [original[w]!, replayed[w]!];
    if (a.name !== b.name || a.values.length !== b.values.length) return { what: `weights[${w}]`, original: a.name, replayed: b.name };
    for (let i = 0; i < a.values.length; i++) {
      if (!Object.is(a.values[i], b.values[i])) return { what: `weights.${a.name}[${i}]`, original: a.values[i], replayed: b.values[i] };
    }
  }
  return undefined;
}

function resultDifference(original: TrainResult, replayed: TrainResult): Difference | undefined {
  if (original.steps !== replayed.steps) return { what: "result.steps", original: original.steps, replayed: replayed.steps };
  if (original.bestStep !== replayed.bestStep) return { what: "result.bestStep", original: original.bestStep, replayed: replayed.bestStep };
  for (const key of ["train", "val", "test"] as const) {
    if (!Object.is(original.accuracy[key], replayed.accuracy[key])) return { what: `result.accuracy.${key}`, original: original.accuracy[key], replayed: replayed.accuracy[key] };
  }
  return undefined;
}
