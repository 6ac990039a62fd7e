/**
 * Connector progress in the compacted topic `<ns>.connectors`: key = connector name and source
 * fingerprint, value = JSON {rowsDone, complete, stats}. Written after every produced batch, so a
 * re-run resumes after the last batch that is known to be written.
 */
import type { Log } from "../src/log/types.ts";

export interface IngestStats {
  nodes: number;
  edges: number;
  nodeDeletes: number;
  edgeDeletes: number;
  bad: number;
  featureDim: number;
  /** Distinct class labels seen, ascending. */
  labels: number[];
}

export interface ConnectorProgress {
  readonly rowsDone: number;
  readonly complete: boolean;
  readonly stats: IngestStats;
}

export const emptyStats = (): IngestStats => ({ nodes: 0, edges: 0, nodeDeletes: 0, edgeDeletes: 0, bad: 0, featureDim: 0, labels: [] });

const enc = new TextEncoder();
const dec = new TextDecoder();

export const progressTopic = (namespace: string): string => `${namespace}.connectors`;
export const progressKey = (connector: string, fingerprint: string): string => `${connector}|${fingerprint}`;

export async function ensureProgressTopic(log: Log, namespace: string): Promise<string> {
  const topic = progressTopic(namespace);
  await log.createTopic(topic, { partitions: 1, compacted: true });
  return topic;
}

/** The latest progress stored under `key`, if any (the topic is small: one record per connector run). */
export async function loadProgress(log: Log, topic: string, key: string): Promise<ConnectorProgress | undefined> {
  let latest: Uint8Array | null | undefined;
  let offset = 0;
  for (;;) {
    const { records, nextOffset, highWatermark } = await log.read(topic, 0, offset);
    for (const record of records) if (record.key && dec.decode(record.key) === key) latest = record.value;
    if (nextOffset >= highWatermark || nextOffset === offset) break;
    offset = nextOffset;
  }
  if (!latest) return undefined;
  const parsed = JSON.parse(dec.decode(latest)) as Partial<ConnectorProgress>;
  if (typeof parsed.rowsDone !== "number" || typeof parsed.complete !== "boolean") {
    throw new Error(`${topic}: progress record for ${key} is malformed: ${dec.decode(latest)}`);
  }
  return { rowsDone: parsed.rowsDone, complete: parsed.complete, stats: { ...emptyStats(), ...parsed.stats } };
}

export async function saveProgress(log: Log, topic: string, key: string, progress: ConnectorProgress): Promise<void> {
  await log.produce(topic, [{ key: enc.encode(key), value: enc.encode(JSON.stringify(progress)), partition: 0 }]);
}
