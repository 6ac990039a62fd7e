/**
 * The status topic of a running program, `<namespace>.program.status` (compacted): one record per
 * node replica, written by the replica itself (a heartbeat with its state and the metrics it
 * reports) and by the launcher when a replica dies, restarts or is stopped. `carls status` and
 * the launchers' stop conditions read it, so it works the same under every launcher.
 */
import type { Log } from "../log/types.ts";
import { readPartition } from "../log/read-all.ts";

export const statusTopic = (namespace: string): string => `${namespace}.program.status`;

export type ReplicaState = "waiting" | "running" | "completed" | "failed" | "restarting" | "stopped";

export interface ReplicaStatus {
  readonly node: string;
  /** Which replica: its index, or under `cluster` its host name (pods of a Deployment have no index). */
  readonly instance: string;
  /** Which launch of the program wrote it (a namespace can be launched again). */
  readonly launch: string;
  readonly state: ReplicaState;
  readonly restarts: number;
  /** Where it runs: a process id, and a thread id when it runs on a worker thread. */
  readonly host: string;
  readonly pid: number;
  readonly thread?: number;
  /** Epoch ms. */
  readonly updatedAt: number;
  /** What the node reports, such as throughput (per s), lag (records) or step. */
  readonly metrics: Readonly<Record<string, number>>;
  readonly error?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export async function ensureStatusTopic(log: Log, namespace: string): Promise<void> {
  await log.createTopic(statusTopic(namespace), { partitions: 1, compacted: true });
}

export async function publishStatus(log: Log, namespace: string, status: ReplicaStatus): Promise<void> {
  await log.produce(statusTopic(namespace), [{ key: enc.encode(`${status.node}/${status.instance}`), value: enc.encode(JSON.stringify(status)), partition: 0 }]);
}

/** Follows the status topic from where it last read: the latest status of every replica that has reported, by `node/instance`. */
export class StatusReader {
  readonly #latest = new Map<string, ReplicaStatus>();
  #offset = 0;

  /** `launch`: only that launch's records (a namespace can hold earlier launches'). */
  constructor(
    private readonly log: Log,
    private readonly namespace: string,
    private readonly launch?: string,
  ) {}

  async read(): Promise<ReadonlyMap<string, ReplicaStatus>> {
    const topic = statusTopic(this.namespace);
    if (this.#offset === 0 && !(await this.log.listTopics()).includes(topic)) return this.#latest;
    for await (const record of readPartition(this.log, topic, 0, this.#offset)) {
      this.#offset = record.offset + 1;
      if (!record.key || !record.value) continue;
      const status = JSON.parse(dec.decode(record.value)) as ReplicaStatus;
      if (this.launch === undefined || status.launch === this.launch) this.#latest.set(dec.decode(record.key), status);
    }
    return this.#latest;
  }
}

export const readStatus = (log: Log, namespace: string): Promise<ReadonlyMap<string, ReplicaStatus>> => new StatusReader(log, namespace).read();

/** Whether `replicas` replicas of `node` have completed, in one launch's `status`. */
export function nodeCompleted(status: ReadonlyMap<string, ReplicaStatus>, node: string, replicas: number): boolean {
  let completed = 0;
  for (const s of status.values()) if (s.node === node && s.state === "completed") completed++;
  return completed >= replicas;
}
