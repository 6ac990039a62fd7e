import { LogError } from "./errors.ts";
import type { ConsumerOptions, ProduceRecord, TopicConfig } from "./types.ts";

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Kafka's rules for topic names, applied to both backends so a program runs on either. */
export function checkTopicName(name: string): void {
  if (typeof name !== "string" || !TOPIC_NAME.test(name) || name === "." || name === "..") {
    throw new LogError(
      "InvalidTopicName",
      `invalid topic name ${JSON.stringify(name)}: use 1-249 characters of [a-zA-Z0-9._-], not "." or ".."`,
    );
  }
}

export const DEFAULT_DELETE_RETENTION_MS = 86_400_000;

export function normaliseTopicConfig(name: string, config: TopicConfig): Required<TopicConfig> {
  if (typeof config !== "object" || config === null) throw new LogError("InvalidArgument", `topic ${name}: createTopic needs a config { partitions, compacted }, got ${String(config)}`);
  const { partitions, compacted } = config;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) {
    throw new LogError("InvalidArgument", `topic ${name}: partitions must be an integer in 1..10000, got ${JSON.stringify(partitions)}`);
  }
  if (typeof compacted !== "boolean") {
    throw new LogError("InvalidArgument", `topic ${name}: compacted must be true or false, got ${String(compacted)}`);
  }
  const retentionMs = config.retentionMs ?? null;
  if (retentionMs !== null && !(Number.isInteger(retentionMs) && retentionMs > 0)) {
    throw new LogError("InvalidArgument", `topic ${name}: retentionMs must be a positive integer or null, got ${retentionMs}`);
  }
  const deleteRetentionMs = config.deleteRetentionMs ?? DEFAULT_DELETE_RETENTION_MS;
  if (!Number.isInteger(deleteRetentionMs) || deleteRetentionMs < 0) {
    throw new LogError("InvalidArgument", `topic ${name}: deleteRetentionMs must be a non-negative integer, got ${deleteRetentionMs}`);
  }
  return { partitions, compacted, retentionMs, deleteRetentionMs };
}

/** Differences that make an existing topic unusable for a caller who asked for `wanted`. */
export function configConflicts(name: string, existing: Required<TopicConfig>, wanted: Required<TopicConfig>): void {
  const diffs: string[] = [];
  if (existing.partitions !== wanted.partitions) diffs.push(`partitions ${existing.partitions} (asked ${wanted.partitions})`);
  if (existing.compacted !== wanted.compacted) diffs.push(`compacted ${existing.compacted} (asked ${wanted.compacted})`);
  if (diffs.length > 0) {
    throw new LogError("TopicConfigConflict", `topic ${name} already exists with ${diffs.join(", ")}`);
  }
}

export function checkOffset(topic: string, partition: number, offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new LogError("InvalidOffset", `offset for ${topic}[${partition}] must be a non-negative integer, got ${offset}`);
  }
}

export function checkPartition(topic: string, partition: number, partitions: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
    throw new LogError("InvalidArgument", `topic ${topic} has partitions 0..${partitions - 1}, got partition ${partition}`);
  }
}

/** A read option (`maxRecords`, `maxBytes`, `waitMs`): an integer of at least `min`, or `fallback` when absent. */
export function readLimit(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new LogError("InvalidArgument", `read option ${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

const describe = (v: unknown): string => (v === undefined ? "undefined" : v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? `a ${v.constructor?.name ?? "object"}` : `a ${typeof v}`);

export function checkRecordArray(topic: string, records: readonly ProduceRecord[]): void {
  if (!Array.isArray(records)) throw new LogError("InvalidArgument", `produce to ${topic}: records must be an array, got ${describe(records)}`);
}

/**
 * Record `index` of a produce to `topic`, refused with what is wrong with it. What both backends
 * accept: key and value each a Uint8Array or null, header values Uint8Arrays, a timestamp a
 * non-negative integer. Checked before anything is written (a string key once went into a batch
 * unencoded and left its partition unreadable), in the loop that already reads each record.
 */
export function checkProduceRecord(topic: string, record: ProduceRecord, index: number): void {
  const problem = recordProblem(record);
  if (problem !== undefined) throw new LogError("InvalidArgument", `produce to ${topic}: record ${index} ${problem}`);
}

const bytesOrNull = (v: unknown): boolean => v === null || v instanceof Uint8Array;
const badBytes = (field: string, v: unknown): string => `has a ${field} that is ${describe(v)}; keys and values are Uint8Array or null`;

/** What is wrong with a record, if anything (a message is made only then). */
function recordProblem(record: ProduceRecord): string | undefined {
  if (typeof record !== "object" || record === null) return `is ${describe(record)}, not a record`;
  if (!bytesOrNull(record.key)) return badBytes("key", record.key);
  if (!bytesOrNull(record.value)) return badBytes("value", record.value);
  const { timestamp, headers } = record;
  if (timestamp !== undefined && !(Number.isSafeInteger(timestamp) && timestamp >= 0)) return `has timestamp ${String(timestamp)}; a timestamp is a non-negative integer (ms)`;
  if (headers !== undefined) for (const name in headers) if (!(headers[name] instanceof Uint8Array)) return `has header ${name} that is ${describe(headers[name])}, not a Uint8Array`;
  return undefined;
}

export function recordSize(record: ProduceRecord): number {
  let size = (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
  if (record.headers) for (const k in record.headers) size += k.length + record.headers[k]!.byteLength;
  return size;
}

export function checkRecordSize(topic: string, record: ProduceRecord, limit: number): void {
  const size = recordSize(record);
  if (size > limit) {
    throw new LogError("RecordTooLarge", `record of ${size} bytes for topic ${topic} exceeds the limit of ${limit} bytes`);
  }
}

export function checkGroup(group: string): void {
  if (typeof group !== "string" || group.length === 0) {
    throw new LogError("InvalidArgument", `consumer group must be a non-empty string, got ${JSON.stringify(group)}`);
  }
}

/** What both backends accept as a consumer's options. */
export function checkConsumerOptions(options: ConsumerOptions): void {
  checkGroup(options.group);
  if (!Array.isArray(options.topics) || options.topics.length === 0) {
    throw new LogError("InvalidArgument", "consumer topics must be a non-empty array of topic names");
  }
  options.topics.forEach(checkTopicName);
  if (options.from !== undefined && options.from !== "earliest" && options.from !== "latest") {
    throw new LogError("InvalidArgument", `consumer option from must be "earliest" or "latest", got ${String(options.from)}`);
  }
  const session = options.sessionTimeoutMs;
  if (session !== undefined && !(Number.isSafeInteger(session) && session > 0)) {
    throw new LogError("InvalidArgument", `consumer option sessionTimeoutMs must be a positive integer, got ${session}`);
  }
}
