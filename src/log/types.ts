/**
 * The streaming store contract. Everything in carls talks to topics through this interface; the
 * embedded (LMDB) and Kafka backends both implement it and pass the same conformance suite.
 *
 * Records are bytes. Offsets are per partition, dense when written, and keep their values through
 * compaction (which leaves gaps), exactly as in Kafka.
 */

import type { LogLocation } from "./location.ts";

export type Bytes = Uint8Array;

/** Record headers. Kafka allows repeated header keys; carls does not need them, so one value per key. */
export type Headers = Readonly<Record<string, Bytes>>;

export interface TopicConfig {
  /** Number of partitions, at least 1. */
  readonly partitions: number;
  /** Log compaction (Kafka's `cleanup.policy=compact`): keep the latest record per key. */
  readonly compacted: boolean;
  /** Delete records older than this (ms). `null` keeps them forever. Ignored for compacted topics. */
  readonly retentionMs?: number | null;
  /** How long a tombstone survives compaction (Kafka's `delete.retention.ms`). Default one day. */
  readonly deleteRetentionMs?: number;
}

export interface ProduceRecord {
  /** Partitioning and compaction key. `null` keys are spread round-robin. */
  readonly key: Bytes | null;
  /** `null` is a tombstone: on a compacted topic it deletes the key. */
  readonly value: Bytes | null;
  readonly headers?: Headers;
  /** Explicit partition; default is Kafka's murmur2 hash of the key, so both backends agree. */
  readonly partition?: number;
  /** Milliseconds since the epoch; default now. */
  readonly timestamp?: number;
}

export interface LogRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Bytes | null;
  readonly value: Bytes | null;
  readonly headers: Headers;
}

/** Where one `produce` call put its records: one entry per partition it touched. */
export interface ProduceResult {
  readonly partition: number;
  readonly baseOffset: number;
  readonly count: number;
}

export interface PartitionOffsets {
  readonly partition: number;
  /** First offset still stored (moves forward with retention). */
  readonly logStartOffset: number;
  /** Offset the next record will get: one past the last stored record. */
  readonly highWatermark: number;
}

export interface TopicDescription {
  readonly name: string;
  readonly config: Required<TopicConfig>;
  readonly partitions: readonly PartitionOffsets[];
}

export interface ReadOptions {
  /** Stop after this many records (default 10,000). */
  readonly maxRecords?: number;
  /** Stop after about this many bytes of keys and values (default 16 MiB; at least one record is returned). */
  readonly maxBytes?: number;
  /** If there is nothing at `offset` yet, wait up to this long for it (long poll; default 0). */
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
}

export interface ReadResult {
  readonly records: readonly LogRecord[];
  /** Offset to read from next: one past the last record returned, or past a compaction gap. */
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

/**
 * The records of one read as columns over shared buffers, with no object per record: for readers
 * that materialise many records (a knowledge bank view restoring from its topic). Record `i` has
 * offset `offsets[i]` and timestamp `timestamps[i]`; its key is
 * `keyData[keyStart[i] .. keyStart[i] + keyLength[i]]`, and its value likewise. Headers are not in
 * the columns: use `read` for them.
 *
 * `keyData` and `valueData` may be one and the same buffer (they are on both backends today), and
 * may hold bytes between records that belong to no key or value; index them only through the starts
 * and lengths. No later read changes a record's bytes, but the buffers are not the caller's to write:
 * on Kafka they are the fetch response the records came in, whose other bytes may belong to other
 * Buffers of the process (Node's pool). The columns themselves are the caller's. To decode
 * keys without a view per record, wrap the data once per read:
 * `Buffer.from(keyData.buffer, keyData.byteOffset, keyData.byteLength).toString("utf8", start, end)`.
 */
export interface RecordColumns {
  readonly count: number;
  readonly offsets: Float64Array;
  readonly timestamps: Float64Array;
  /** Key `i` is `keyData[keyStart[i] .. keyStart[i] + keyLength[i]]`; `keyLength[i]` is -1 for a null key. */
  readonly keyData: Uint8Array;
  readonly keyStart: Uint32Array;
  readonly keyLength: Int32Array;
  /** Value `i` is `valueData[valueStart[i] .. valueStart[i] + valueLength[i]]`; `valueLength[i]` is -1 for a tombstone. */
  readonly valueData: Uint8Array;
  readonly valueStart: Uint32Array;
  readonly valueLength: Int32Array;
}

export interface ColumnarReadResult extends Omit<ReadResult, "records"> {
  readonly columns: RecordColumns;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** The next offset to consume (Kafka's convention for committed offsets). */
  readonly offset: number;
}

export interface ConsumerOptions {
  readonly group: string;
  readonly topics: readonly string[];
  /** Where a partition without a committed offset starts. Default `earliest`. */
  readonly from?: "earliest" | "latest";
  /** A member that has not been heard from for this long loses its partitions. Default 10 s. */
  readonly sessionTimeoutMs?: number;
}

export interface PolledBatch extends TopicPartition {
  readonly records: readonly LogRecord[];
  readonly highWatermark: number;
}

export interface PollOptions {
  readonly maxRecords?: number;
  /** Wait up to this long when no assigned partition has data (default 0). */
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * A member of a consumer group. Partitions of the subscribed topics are split between the live
 * members; a member resumes from the group's committed offsets.
 */
export interface GroupConsumer {
  readonly group: string;
  readonly memberId: string;
  /** The partitions this member owns now. */
  assignment(): Promise<readonly TopicPartition[]>;
  /** Records from owned partitions, from the current positions. */
  poll(options?: PollOptions): Promise<readonly PolledBatch[]>;
  /** Commit the given offsets, or by default everything returned by `poll` so far. */
  commit(offsets?: readonly TopicPartitionOffset[]): Promise<void>;
  /** Move this member's position on an owned partition. */
  seek(position: TopicPartitionOffset): void;
  /** Leave the group; its partitions go to the remaining members. */
  close(): Promise<void>;
}

export interface CompactionResult {
  readonly topic: string;
  /** Records removed: superseded values and expired tombstones. */
  readonly removed: number;
  readonly kept: number;
}

export interface Log {
  readonly backend: "embedded" | "kafka";
  /** How to open this log again from another thread or process (`reopenLog`), e.g. for workers. */
  readonly location: LogLocation;
  /** Create a topic, or check that an existing one has the same partitions and policy. */
  createTopic(name: string, config: TopicConfig): Promise<void>;
  describeTopic(name: string): Promise<TopicDescription>;
  listTopics(): Promise<readonly string[]>;
  deleteTopic(name: string): Promise<void>;
  /** Append records; resolves once they are durable (acknowledged by all in-sync replicas on Kafka). */
  produce(topic: string, records: readonly ProduceRecord[]): Promise<readonly ProduceResult[]>;
  /** Read one partition from an offset, optionally waiting for new data. */
  read(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<ReadResult>;
  /**
   * The records of one read as columns over shared buffers: no object per record. Same offsets,
   * limits, `waitMs`, `nextOffset` and errors as `read`, except that `maxBytes` is capped at
   * `COLUMNS_MAX_BYTES` (1 GiB); headers are left out (use `read` for them).
   */
  readColumns(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<ColumnarReadResult>;
  offsets(topic: string): Promise<readonly PartitionOffsets[]>;
  /** A group's committed offsets for a topic (partitions without one are absent). */
  committed(group: string, topic: string): Promise<readonly TopicPartitionOffset[]>;
  consumer(options: ConsumerOptions): Promise<GroupConsumer>;
  /** Run compaction on a compacted topic now, and wait for it. */
  compact(topic: string): Promise<CompactionResult>;
  close(): Promise<void>;
}
