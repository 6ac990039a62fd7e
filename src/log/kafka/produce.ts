import { isLogError, LogError } from "../errors.ts";
import { Partitioner } from "../partitioner.ts";
import type { ProduceRecord, ProduceResult } from "../types.ts";
import { checkPartition, checkProduceRecord, checkRecordArray, checkRecordSize, checkTopicName, recordSize } from "../validate.ts";
import { BATCH_OVERHEAD_BYTES, isReservedHeader, splitRecord } from "./chunking.ts";
import { send } from "./internals.ts";
import { PartitionLanes, type Submitted } from "./lanes.ts";
import { encodeRecordBatch, type OutgoingRecord } from "./record-batch.ts";
import { COMPACTION_MARKER_KEY, isCompactionMarker } from "./records.ts";
import { produceRequest } from "./requests.ts";
import type { TopicAdmin } from "./topics.ts";
import type { Wire } from "./wire.ts";

const ACKS_ALL = -1;
const PRODUCE_TIMEOUT_MS = 30_000;

/** What only this backend reserves: the compaction marker key and the chunking headers. */
function checkReserved(record: ProduceRecord): void {
  if (isCompactionMarker(record.key)) {
    throw new LogError("InvalidArgument", `the key ${COMPACTION_MARKER_KEY} is reserved for compaction markers`);
  }
  for (const name in record.headers) {
    if (isReservedHeader(name)) throw new LogError("InvalidArgument", `header ${name} is reserved for value chunking`);
  }
}

/** Upper bound of a record's size inside a batch: payload plus varint framing. */
function framedSize(record: OutgoingRecord): number {
  let size = 40 + (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
  for (const name in record.headers) size += 10 + name.length + record.headers[name]!.byteLength;
  return size;
}

/** Consecutive runs of records whose record batch stays under the topic's `max.message.bytes`. */
function* batches(records: readonly OutgoingRecord[], maxMessageBytes: number): Generator<OutgoingRecord[]> {
  const limit = maxMessageBytes - BATCH_OVERHEAD_BYTES;
  let batch: OutgoingRecord[] = [];
  let size = 0;
  for (const record of records) {
    const bytes = framedSize(record);
    if (batch.length > 0 && size + bytes > limit) {
      yield batch;
      batch = [];
      size = 0;
    }
    batch.push(record);
    size += bytes;
  }
  if (batch.length > 0) yield batch;
}

/**
 * Writes records straight to partition leaders (acks=all, no compression, not idempotent) in
 * record batches we encode. A batch must fit the topic's `max.message.bytes`, so big calls go out
 * as several requests per partition, in order (see lanes.ts).
 */
export class Producer {
  private readonly partitioner = new Partitioner();
  private readonly lanes = new PartitionLanes();

  constructor(
    private readonly wire: Wire,
    private readonly topics: TopicAdmin,
    private readonly maxRecordBytes: number,
  ) {}

  async produce(topic: string, records: readonly ProduceRecord[]): Promise<readonly ProduceResult[]> {
    checkTopicName(topic);
    checkRecordArray(topic, records);
    const [{ partitions }, settings] = await Promise.all([this.wire.topic(topic), this.topics.settings(topic)]);
    const now = Date.now();
    const chunkLimit = settings.maxMessageBytes - BATCH_OVERHEAD_BYTES;
    const byPartition = new Map<number, { records: OutgoingRecord[]; chunked: boolean }>();
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      checkProduceRecord(topic, record, i);
      checkReserved(record);
      const size = recordSize(record);
      if (size > this.maxRecordBytes) checkRecordSize(topic, record, this.maxRecordBytes);
      if (record.partition !== undefined) checkPartition(topic, record.partition, partitions);
      if (record.key === null && settings.compacted) {
        throw new LogError("InvalidArgument", `records for compacted topic ${topic} need a key (Kafka refuses them without one)`);
      }
      const partition = this.partitioner.partition(record.key, record.partition, partitions);
      let outgoing = byPartition.get(partition);
      if (outgoing === undefined) byPartition.set(partition, (outgoing = { records: [], chunked: false }));
      const timestamp = record.timestamp ?? now;
      if (size <= chunkLimit) {
        outgoing.records.push({ key: record.key, value: record.value, headers: record.headers, timestamp });
        continue;
      }
      if (settings.compacted) {
        throw new LogError(
          "RecordTooLarge",
          `record of ${size} bytes exceeds max.message.bytes (${settings.maxMessageBytes}) of compacted topic ${topic}; ` +
            "it cannot be split into chunks because compaction would keep only the last chunk of its key",
        );
      }
      for (const piece of splitRecord(topic, { key: record.key, value: record.value, headers: record.headers }, settings.maxMessageBytes)) outgoing.records.push({ ...piece, timestamp });
      outgoing.chunked = true;
    }
    const results = await Promise.all(
      [...byPartition].map(([partition, { records, chunked }]) =>
        this.append(topic, partition, records, settings.maxMessageBytes, chunked),
      ),
    );
    return results.sort((a, b) => a.partition - b.partition);
  }

  /**
   * Appends records to one partition, after earlier appends to it, without checking them (also
   * used for compaction markers). `exclusive` keeps other writes out from between its records.
   */
  async append(
    topic: string,
    partition: number,
    records: readonly OutgoingRecord[],
    maxMessageBytes: number,
    exclusive = false,
  ): Promise<ProduceResult> {
    // Encoded before taking its turn, so that encoding overlaps with the requests in flight.
    const requests = Array.from(batches(records, maxMessageBytes), (batch) => {
      const encoded = encodeRecordBatch(batch);
      return () => this.submit(topic, partition, encoded);
    });
    const written = await this.lanes.write(`${topic}\0${partition}`, requests, exclusive);
    return { partition, baseOffset: written[0]!.baseOffset, count: records.length };
  }

  private submit(topic: string, partition: number, batch: Buffer): Submitted<{ baseOffset: number }> {
    let onConnection!: () => void;
    const handedOver = new Promise<void>((resolve) => (onConnection = resolve));
    const request = produceRequest(topic, partition, batch, ACKS_ALL, PRODUCE_TIMEOUT_MS, onConnection);
    const response = this.wire.onLeader(topic, partition, (broker) => send(broker, request)).catch((error: unknown) => {
      // The topic's max.message.bytes may have been lowered since we cached it.
      if (isLogError(error, "RecordTooLarge")) this.topics.forgetSettings(topic);
      throw error;
    });
    return { handedOver, response };
  }
}
