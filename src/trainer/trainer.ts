/**
 * The trainer: a full-batch step loop over a model from graph/, fed by the knowledge bank. Each
 * step it reads what the banks hold now (it never waits for makers, unless a staleness bound says
 * so), adds the knowledge terms to the loss, records which bank versions it used, publishes the
 * step's metrics, and every N steps a checkpoint for the makers. It writes a run manifest when it
 * starts and when it ends, so that the run can be replayed (src/replay).
 */
import { randomBytes } from "node:crypto";
import { readPartition } from "../log/read-all.ts";
import type { Log } from "../log/types.ts";
import { checkpointTopic, ensureCheckpointTopic, publishCheckpoint } from "../schema/checkpoint-topic.ts";
import type { Model } from "../../graph/gnn/model.ts";
import * as tf from "../../graph/gnn/tf.ts";
import { buildModel, type ModelSpec } from "../../graph/models.ts";
import { graphFingerprint } from "../../graph/store/fingerprint.ts";
import type { GraphStore } from "../../graph/store/graph-store.ts";
import { packageVersions, topicEnds, writeManifest, type RunManifest, type TopicRange } from "../replay/manifest.ts";
import type { KnowledgeTerm } from "./knowledge.ts";
import { trainingLoop, type StepRecord, type TrainResult } from "./loop.ts";
import type { Freshness } from "./off-thread.ts";
import { ensureTrainerStateTopic, publishTrainerState, trainerStateTopic } from "./state.ts";
import { checkNamespace } from "../schema/namespace.ts";

export type { StepRecord, TrainResult } from "./loop.ts";

export const metricsTopic = (namespace: string): string => `${namespace}.trainer.metrics`;
/** Compacted: the last finished run's result, for whoever launched it from elsewhere. */
export const resultTopic = (namespace: string): string => `${namespace}.trainer.result`;

export interface TrainerOptions {
  readonly log: Log;
  readonly namespace: string;
  readonly graph: GraphStore;
  readonly model: Model<unknown>;
  /** How to rebuild the model from a checkpoint (makers and replay do). */
  readonly spec: ModelSpec;
  readonly inputs: unknown;
  readonly steps: number;
  readonly learningRate?: number;
  /** Publish a checkpoint every this many steps (default 10), and at step 0. */
  readonly checkpointEvery?: number;
  readonly knowledge?: readonly KnowledgeTerm[];
  /**
   * Wait, before a step, until `freshness` holds values from a checkpoint at most this many
   * checkpoints old. Absent: never wait.
   */
  readonly staleness?: { readonly checkpoints: number; readonly freshness: Freshness; readonly timeoutMs?: number };
  /** Stop when validation accuracy has not improved for this many steps (default: never). */
  readonly patience?: number;
  /** The run's id in its manifest (default: random), and the program that launched it. */
  readonly run?: { readonly id?: string; readonly program?: RunManifest["program"] };
  readonly onStep?: (record: StepRecord) => void;
  readonly signal?: AbortSignal;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function validate(options: TrainerOptions): void {
  checkNamespace(options.namespace);
  const count = (name: string, value: number | undefined, min: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min)) throw new Error(`train: ${name} must be an integer ≥ ${min}, got ${value}`);
  };
  count("steps", options.steps, 0);
  count("checkpointEvery", options.checkpointEvery, 1);
  count("patience", options.patience, 1);
  count("staleness.checkpoints", options.staleness?.checkpoints, 0);
  if (options.learningRate !== undefined && !(options.learningRate > 0)) throw new Error(`train: learningRate must be > 0, got ${options.learningRate}`);
  const launchedAt = options.run?.program?.launchedAt;
  if (launchedAt !== undefined && !(Number.isFinite(launchedAt) && launchedAt <= Date.now())) throw new Error(`train: run.program.launchedAt must be a time (epoch ms) not in the future, got ${launchedAt}`);
}

export async function train(options: TrainerOptions): Promise<TrainResult> {
  validate(options);
  checkSpecBuildsModel(options.spec, options.model);
  const { log, namespace, graph } = options;
  const knowledge = options.knowledge ?? [];
  const every = options.checkpointEvery ?? 10;
  const learningRate = options.learningRate ?? 0.01;
  await ensureCheckpointTopic(log, namespace);
  await log.createTopic(metricsTopic(namespace), { partitions: 1, compacted: false, retentionMs: null });
  await ensureTrainerStateTopic(log, namespace);

  const startedAt = Date.now();
  // The trainer state only lets replay run segments side by side: a run replays without it, in order.
  const writes = [{ topic: checkpointTopic(namespace) }, { topic: metricsTopic(namespace) }, { topic: trainerStateTopic(namespace), optional: true as const }];
  const ends = () => Promise.all(writes.map(({ topic }) => topicEnds(log, topic)));
  const writesFrom = await ends();
  const graphPositions = graph.positions();
  const graphTopics = [...new Set(graphPositions.map((p) => p.topic))];
  const runId = options.run?.id ?? `run-${new Date(startedAt).toISOString().replace(/[-:.TZ]/g, "").slice(0, 14)}-${randomBytes(3).toString("hex")}`;
  const fingerprint = graphFingerprint(graph);
  const versions = packageVersions();
  let lastBanks: StepRecord["banks"] = [];
  const manifest = (state: RunManifest["state"], end?: { result?: TrainResult; writesTo: number[][]; error?: string }): RunManifest => ({
    id: runId,
    namespace,
    state,
    startedAt,
    ...(end ? { endedAt: Date.now(), seconds: (Date.now() - startedAt) / 1000 } : {}),
    ...(options.run?.program ? { program: options.run.program } : {}),
    seeds: { model: options.spec.seed ?? 0 },
    versions,
    backend: tf.getBackend(),
    trainer: { spec: options.spec, steps: options.steps, learningRate, checkpointEvery: every, ...(options.patience !== undefined ? { patience: options.patience } : {}), ...(options.staleness ? { staleness: options.staleness.checkpoints } : {}), knowledge: knowledge.map((t) => t.spec) },
    graph: { positions: graphPositions, fingerprint },
    topics: [
      ...graphTopics.map((topic): TopicRange => {
        const to = graphPositions.filter((p) => p.topic === topic).sort((a, b) => a.partition - b.partition).map((p) => p.offset);
        return { topic, from: to.map(() => 0), to };
      }),
      ...lastBanks.map((b): TopicRange => ({ topic: `${b.bank}.history`, from: b.position.historyOffsets.map(() => 0), to: b.position.historyOffsets })),
      ...(end ? writes.map((write, i): TopicRange => ({ ...write, from: writesFrom[i]!, to: end.writesTo[i]! })) : []),
    ],
    ...(end?.result ? { result: end.result } : {}),
    ...(end?.error ? { error: end.error } : {}),
  });
  await writeManifest(log, manifest("running"));

  let lastCheckpoint = -1;
  let result: TrainResult;
  try {
    result = await trainingLoop(
      { graph, model: options.model, inputs: options.inputs, steps: options.steps, learningRate, checkpointEvery: every, knowledge, ...(options.patience !== undefined ? { patience: options.patience } : {}), ...(options.signal ? { signal: options.signal } : {}) },
      {
        beforeStep: async () => {
          if (!options.staleness || lastCheckpoint < 0) return;
          const { checkpoints: bound, freshness, timeoutMs } = options.staleness;
          await freshness.awaitVersion(Math.max(0, lastCheckpoint - bound * every), { minKeys: 1, timeoutMs: timeoutMs ?? 60_000, signal: options.signal });
        },
        afterStep: async (record) => {
          lastBanks = record.banks;
          await log.produce(metricsTopic(namespace), [{ key: enc.encode(String(record.step)), value: enc.encode(JSON.stringify(record)), partition: 0 }]);
          options.onStep?.(record);
        },
        checkpoint: async (step, weights, state) => {
          await publishCheckpoint(log, namespace, { step, model: { kind: options.spec.kind, config: { ...options.spec } }, weights });
          lastCheckpoint = step;
          // After the checkpoint makers wait for: only replay reads it.
          if (state) await publishTrainerState(log, namespace, await state());
        },
      },
    );
  } catch (error) {
    const state = options.signal?.aborted ? "stopped" : "failed";
    await writeManifest(log, manifest(state, { writesTo: await ends(), error: error instanceof Error ? error.message : String(error) }));
    throw error;
  }
  await log.createTopic(resultTopic(namespace), { partitions: 1, compacted: true });
  await log.produce(resultTopic(namespace), [{ key: enc.encode("result"), value: enc.encode(JSON.stringify(result)), partition: 0 }]);
  await writeManifest(log, manifest(options.signal?.aborted ? "stopped" : "completed", { result, writesTo: await ends() }));
  return result;
}

/** Makers and replay rebuild the model from `spec`: it must give the same weights, by name and shape, as the model trained. */
function checkSpecBuildsModel(spec: ModelSpec, model: Model<unknown>): void {
  const shapes = (m: Model<unknown>) => m.getWeights().map((w) => `${w.name} [${w.shape.join(", ")}]`);
  const rebuilt = buildModel(spec);
  const [wanted, got] = [shapes(rebuilt), shapes(model)];
  rebuilt.dispose();
  if (wanted.join() !== got.join()) throw new Error(`train: spec (${spec.kind}) builds weights ${wanted.join(", ")}, but the model has ${got.join(", ")}; makers and replay rebuild the model from spec`);
}

/** The result the last finished training run in `namespace` published, if any. */
export async function readTrainResult(log: Log, namespace: string): Promise<TrainResult | undefined> {
  if (!(await log.listTopics()).includes(resultTopic(namespace))) return undefined;
  let latest: TrainResult | undefined;
  for await (const record of readPartition(log, resultTopic(namespace), 0)) if (record.value) latest = JSON.parse(dec.decode(record.value)) as TrainResult;
  return latest;
}
