/**
 * Kafka compacts in the background and cannot be asked to do it now. `compactNow` makes the log
 * cleaner eager for a moment (segment.ms, min.cleanable.dirty.ratio and min.compaction.lag.ms
 * lowered), then runs a verified cleaning pass:
 *
 *   1. after segment.ms has passed, write marker tombstones (key COMPACTION_MARKER_KEY) twice to
 *      every partition: the first write rolls the active segment, so all earlier records become
 *      cleanable, and the second supersedes the first;
 *   2. after segment.ms again, write a third marker, rolling the segment of the first two;
 *   3. wait until the first marker is gone from every partition and no key repeats below it:
 *      the cleaner has then compacted everything written before `compact()` was called.
 *
 * Kafka drops an expired tombstone only in a pass after the one that first saw it, so when the
 * topic's delete.retention.ms is short and tombstones remain, a second pass follows. Finally the
 * topic's own configuration is restored.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { LogError } from "../errors.ts";
import type { CompactionResult, LogRecord } from "../types.ts";
import { fetchFrom, readPartition } from "./fetch.ts";
import { partitionOffsets } from "./offsets.ts";
import type { Producer } from "./produce.ts";
import { RecordCursor } from "./record-batch.ts";
import { COMPACTION_MARKER } from "./records.ts";
import type { ConfigEntry, TopicAdmin } from "./topics.ts";
import type { Wire } from "./wire.ts";

const EAGER_CLEANING: readonly ConfigEntry[] = [
  { name: "segment.ms", value: "100" },
  { name: "min.cleanable.dirty.ratio", value: "0.0001" },
  { name: "min.compaction.lag.ms", value: "0" },
];
/** Longer than the lowered segment.ms, so that the next write rolls the active segment. */
const ROLL_DELAY_MS = 150;
const CHECK_INTERVAL_MS = 100;
const TIMEOUT_MS = 30_000;
/** Tombstones expiring within this long are waited for (a second pass); longer ones are kept. */
const MAX_TOMBSTONE_WAIT_MS = 10_000;

/** The topic being compacted, and what writing and reading it takes. */
interface Target {
  readonly wire: Wire;
  readonly producer: Producer;
  readonly name: string;
  readonly partitions: number;
  readonly maxMessageBytes: number;
  readonly deadline: number;
}

/** Calls `visit` with every record of a partition below `end`. */
async function scan(wire: Wire, topic: string, partition: number, end: number, visit: (r: LogRecord) => void): Promise<void> {
  let offset = 0;
  while (offset < end) {
    const { records, nextOffset } = await readPartition(wire, topic, partition, offset, { maxRecords: 100_000 });
    for (const record of records) if (record.offset < end) visit(record);
    if (nextOffset <= offset) break;
    offset = nextOffset;
  }
}

async function countRecords(wire: Wire, topic: string, partitions: number): Promise<number> {
  let count = 0;
  for (let partition = 0; partition < partitions; partition++) {
    const { highWatermark } = await partitionOffsets(wire, topic, partition);
    await scan(wire, topic, partition, highWatermark, () => count++);
  }
  return count;
}

/** Writes one marker tombstone to every partition; returns each marker's offset by partition. */
async function writeMarkers(topic: Target): Promise<number[]> {
  const marker = [{ key: COMPACTION_MARKER, value: null, headers: undefined, timestamp: Date.now() }];
  const written = await Promise.all(
    Array.from({ length: topic.partitions }, (_, partition) => topic.producer.append(topic.name, partition, marker, topic.maxMessageBytes)),
  );
  return written.map((r) => r.baseOffset);
}

/** Whether the cleaner has removed the record at `offset` (a superseded marker). */
async function isGone(topic: Target, partition: number, offset: number): Promise<boolean> {
  const { batches } = await fetchFrom(topic.wire, topic.name, partition, offset, 64 * 1024, 0, undefined);
  const cursor = new RecordCursor();
  for (const batch of batches) {
    cursor.reset(batch);
    while (cursor.next()) if (cursor.offset === offset) return false;
  }
  return true;
}

async function inspect(topic: Target, cleanedBelow: readonly number[]): Promise<{ repeated: boolean; tombstones: boolean }> {
  let repeated = false;
  let tombstones = false;
  for (let partition = 0; partition < topic.partitions; partition++) {
    const seen = new Set<string>();
    await scan(topic.wire, topic.name, partition, cleanedBelow[partition]!, (record) => {
      if (record.value === null) tombstones = true;
      if (record.key === null) return; // only from before the topic was compacted; the cleaner keeps them
      const key = Buffer.from(record.key).toString("base64");
      if (seen.has(key)) repeated = true;
      seen.add(key);
    });
  }
  return { repeated, tombstones };
}

/** Runs a verified pass; resolves to whether tombstones remain in the cleaned part. */
async function cleaningPass(topic: Target): Promise<boolean> {
  await sleep(ROLL_DELAY_MS);
  const superseded = await writeMarkers(topic);
  const cleanedBelow = await writeMarkers(topic);
  await sleep(ROLL_DELAY_MS);
  await writeMarkers(topic);
  for (;;) {
    const gone = await Promise.all(superseded.map((offset, partition) => isGone(topic, partition, offset)));
    if (gone.every(Boolean)) {
      const { repeated, tombstones } = await inspect(topic, cleanedBelow);
      if (!repeated) return tombstones;
    }
    if (Date.now() > topic.deadline) {
      throw new Error(
        `compaction of topic ${topic.name} did not finish within ${TIMEOUT_MS / 1000} s; ` +
          "check that the broker's log cleaner runs (log.cleaner.enable, log.cleaner.backoff.ms) " +
          "and that record timestamps are not in the future (segments roll by timestamp)",
      );
    }
    await sleep(CHECK_INTERVAL_MS);
  }
}

export async function compactNow(wire: Wire, topics: TopicAdmin, producer: Producer, name: string): Promise<CompactionResult> {
  const config = await topics.config(name);
  if (!config.compacted) throw new LogError("InvalidArgument", `topic ${name} is not compacted; only compacted topics can be compacted`);
  const { maxMessageBytes } = await topics.settings(name);
  const topic: Target = { wire, producer, name, partitions: config.partitions, maxMessageBytes, deadline: Date.now() + TIMEOUT_MS };
  const before = await countRecords(wire, name, config.partitions);
  const original = await topics.overrides(name);
  const eager = new Set(EAGER_CLEANING.map((e) => e.name));
  await topics.replaceOverrides(name, [...original.filter((e) => !eager.has(e.name)), ...EAGER_CLEANING]);
  try {
    const tombstones = await cleaningPass(topic);
    if (tombstones && config.deleteRetentionMs <= MAX_TOMBSTONE_WAIT_MS) {
      await sleep(config.deleteRetentionMs);
      await cleaningPass(topic);
    }
  } finally {
    await topics.replaceOverrides(name, original);
  }
  const kept = await countRecords(wire, name, config.partitions);
  return { topic: name, removed: Math.max(0, before - kept), kept };
}
