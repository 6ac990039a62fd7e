/** Reading a whole topic, or a range of one partition, as a stream of records. */
import type { Log, LogRecord } from "./types.ts";

/** Records of one partition from `from` (default: the log start) up to `to` (default: the high watermark as of the call). */
export async function* readPartition(log: Log, topic: string, partition: number, from?: number, to?: number): AsyncGenerator<LogRecord> {
  const offsets = (await log.offsets(topic)).find((o) => o.partition === partition);
  if (!offsets) throw new Error(`${topic} has no partition ${partition}`);
  const end = to ?? offsets.highWatermark;
  for (let offset = Math.max(from ?? 0, offsets.logStartOffset); offset < end; ) {
    const result = await log.read(topic, partition, offset);
    for (const record of result.records) if (record.offset < end) yield record;
    if (result.nextOffset <= offset) break;
    offset = result.nextOffset;
  }
}

/** Every record of every partition of a topic, partition by partition. */
export async function* readTopic(log: Log, topic: string): AsyncGenerator<LogRecord> {
  for (const { partition } of await log.offsets(topic)) yield* readPartition(log, topic, partition);
}
