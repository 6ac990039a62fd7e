/**
 * Run manifests, in the compacted topic `<namespace>.runs` keyed by run id: written when a
 * training run starts and again when it ends. A manifest holds what a replay needs: the program
 * and its configuration, seeds, package versions and tfjs backend, the trainer's recipe (model
 * spec, steps, knowledge terms as data), the graph position and fingerprint it trained on, and the
 * range of every topic it read or wrote. The per-step record of which bank versions the trainer used
 * is in the metrics topic, inside the manifest's range of it.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { readPartition } from "../log/read-all.ts";
import type { Log, TopicPartitionOffset } from "../log/types.ts";
import type { ModelSpec } from "../../graph/models.ts";
import type { TermSpec } from "../trainer/knowledge.ts";
import type { TrainResult } from "../trainer/loop.ts";
import { ReplayRefused } from "./replay-refused.ts";

export const runsTopic = (namespace: string): string => `${namespace}.runs`;

/** Per partition, the first offset a run read (or wrote) and one past the last. */
export interface TopicRange {
  readonly topic: string;
  readonly from: readonly number[];
  readonly to: readonly number[];
  /** The range only lets replay go faster (the trainer state, for replaying segments side by side); losing it leaves the run replayable. */
  readonly optional?: true;
}

export interface TrainerRecipe {
  readonly spec: ModelSpec;
  readonly steps: number;
  readonly learningRate: number;
  readonly checkpointEvery: number;
  readonly patience?: number;
  /** Checkpoints of staleness allowed, when the run had a bound (replay needs no waiting: it reads recorded positions). */
  readonly staleness?: number;
  readonly knowledge: readonly TermSpec[];
}

export interface RunManifest {
  readonly id: string;
  readonly namespace: string;
  readonly state: "running" | "completed" | "failed" | "stopped";
  readonly startedAt: number;
  readonly endedAt?: number;
  /** The program and configuration that launched the run, when a program did. */
  readonly program?: {
    readonly name: string;
    readonly config: Readonly<Record<string, unknown>>;
    /** When the launcher launched the program (epoch ms): the whole run, ingest and makers included, took `endedAt - launchedAt`. */
    readonly launchedAt?: number;
  };
  readonly seeds: Readonly<Record<string, number>>;
  readonly versions: { readonly carls: string; readonly node: string; readonly tfjs: string };
  readonly backend: string;
  readonly trainer: TrainerRecipe;
  /** The graph the trainer read: where it stopped reading each graph partition, and a fingerprint of what it held. */
  readonly graph: { readonly positions: readonly TopicPartitionOffset[]; readonly fingerprint: string };
  /** Graph topics, bank histories, checkpoints, metrics: what replay reads, by range. */
  readonly topics: readonly TopicRange[];
  readonly result?: TrainResult;
  /** The trainer's wall time, start to end. */
  readonly seconds?: number;
  readonly error?: string;
}

/** The whole run's wall time, from its program's launch to the trainer's end (ingest, makers starting, training), when a launcher launched it and it has ended. */
export function launchToEndSeconds(manifest: RunManifest): number | undefined {
  const launchedAt = manifest.program?.launchedAt;
  return launchedAt !== undefined && manifest.endedAt !== undefined ? (manifest.endedAt - launchedAt) / 1000 : undefined;
}

/** The manifest's range of `topic`; refuses the replay when it has none. */
export function rangeOf(manifest: RunManifest, topic: string): TopicRange {
  const found = manifest.topics.find((t) => t.topic === topic);
  if (!found) throw new ReplayRefused(`run ${manifest.id}: its manifest records no range of ${topic}`);
  return found;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export async function writeManifest(log: Log, manifest: RunManifest): Promise<void> {
  const topic = runsTopic(manifest.namespace);
  await log.createTopic(topic, { partitions: 1, compacted: true });
  await log.produce(topic, [{ key: enc.encode(manifest.id), value: enc.encode(JSON.stringify(manifest)), partition: 0 }]);
}

/** Every run of a namespace, latest manifest of each, in the order they started. */
export async function readManifests(log: Log, namespace: string): Promise<RunManifest[]> {
  const topic = runsTopic(namespace);
  if (!(await log.listTopics()).includes(topic)) return [];
  const latest = new Map<string, RunManifest>();
  for await (const record of readPartition(log, topic, 0)) if (record.key && record.value) latest.set(dec.decode(record.key), JSON.parse(dec.decode(record.value)) as RunManifest);
  return [...latest.values()].sort((a, b) => a.startedAt - b.startedAt);
}

export async function readManifest(log: Log, namespace: string, id: string): Promise<RunManifest> {
  const runs = await readManifests(log, namespace);
  const found = runs.find((r) => r.id === id);
  if (!found) throw new Error(`no run ${JSON.stringify(id)} in namespace ${namespace} (runs: ${runs.map((r) => r.id).join(", ") || "none"})`);
  return found;
}

const require = createRequire(import.meta.url);
const versionOf = (pkg: string): string => (JSON.parse(readFileSync(require.resolve(`${pkg}/package.json`), "utf8")) as { version: string }).version;

export const packageVersions = (): RunManifest["versions"] => ({
  carls: (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version,
  node: process.versions.node,
  tfjs: versionOf("@tensorflow/tfjs-core"),
});

/** Where every partition of `topic` ends now. */
export async function topicEnds(log: Log, topic: string): Promise<number[]> {
  return (await log.offsets(topic)).map((o) => o.highWatermark);
}
