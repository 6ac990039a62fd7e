import type { LogLocation } from "../location.ts";
import { COLUMNS_MAX_BYTES, ColumnsBuilder, emptyColumns } from "../columns.ts";
import { LogError } from "../errors.ts";
import { Partitioner } from "../partitioner.ts";
import type {
  ColumnarReadResult,
  CompactionResult,
  ConsumerOptions,
  GroupConsumer,
  Log,
  LogRecord,
  PartitionOffsets,
  ProduceRecord,
  ProduceResult,
  ReadOptions,
  ReadResult,
  TopicConfig,
  TopicDescription,
  TopicPartitionOffset,
} from "../types.ts";
import {
  checkConsumerOptions,
  checkOffset,
  checkPartition,
  checkProduceRecord,
  checkRecordArray,
  checkRecordSize,
  checkTopicName,
  configConflicts,
  normaliseTopicConfig,
  readLimit,
} from "../validate.ts";
import { decodeBatch, decodeBatchColumns, encodeBatch, setBaseOffset } from "./batch-codec.ts";
import { EmbeddedGroupConsumer } from "./group-consumer.ts";
import { applyRetention, compactPartition, needsCompaction } from "./maintenance.ts";
import { ChangeNotifier } from "./notifier.ts";
import { openStore, type PartitionState, type Store, type TopicMeta } from "./store.ts";

export interface EmbeddedLogOptions {
  /** Directory holding the store; created if missing. Several processes may open the same one. */
  readonly dir: string;
  /**
   * `disk` (default): `produce` resolves once the batch is fsynced, so acknowledged records survive
   * a machine crash. `process`: once committed, so they survive the process being killed.
   */
  readonly durability?: "disk" | "process";
  /** Largest record (key + value + headers) accepted. Default 64 MiB. */
  readonly maxRecordBytes?: number;
  /** How often this process runs retention and due compaction; 0 turns it off. Default 30 s. */
  readonly maintenanceIntervalMs?: number;
}

const DEFAULT_MAX_RECORDS = 10_000;
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const NO_RECORDS: readonly LogRecord[] = Object.freeze([]);

export async function openEmbeddedLog(options: EmbeddedLogOptions): Promise<Log> {
  if (typeof options?.dir !== "string" || options.dir.length === 0) {
    throw new LogError("InvalidArgument", "embedded log: `dir` must be a non-empty path");
  }
  const durability = options.durability ?? "disk";
  if (durability !== "disk" && durability !== "process") {
    throw new LogError("InvalidArgument", `embedded log: durability must be "disk" or "process", got ${JSON.stringify(durability)}`);
  }
  const store = await openStore(options.dir);
  return new EmbeddedLog(store, { backend: "embedded", ...options }, durability, options.maxRecordBytes ?? 64 * 1024 * 1024, options.maintenanceIntervalMs ?? 30_000);
}

export class EmbeddedLog implements Log {
  readonly backend = "embedded" as const;
  readonly notifier: ChangeNotifier;
  private readonly partitioner = new Partitioner();
  private readonly consumers = new Set<EmbeddedGroupConsumer>();
  private readonly maintenance: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly store: Store,
    readonly location: LogLocation,
    private readonly durability: "disk" | "process",
    private readonly maxRecordBytes: number,
    maintenanceIntervalMs: number,
  ) {
    this.notifier = new ChangeNotifier(store.dir);
    if (maintenanceIntervalMs > 0) {
      this.maintenance = setInterval(() => void this.runMaintenance().catch(() => undefined), maintenanceIntervalMs);
      this.maintenance.unref();
    }
  }

  async createTopic(name: string, config: TopicConfig): Promise<void> {
    this.checkOpen();
    checkTopicName(name);
    const wanted = normaliseTopicConfig(name, config);
    const { topics, partitions, meta } = this.store;
    await this.store.root.transaction(() => {
      const existing = topics.get(name);
      if (existing) return configConflicts(name, existing.config, wanted);
      const id = ((meta.get("nextTopicId") as number | undefined) ?? 1);
      meta.putSync("nextTopicId", id + 1);
      topics.putSync(name, { id, config: wanted });
      for (let p = 0; p < wanted.partitions; p++) partitions.putSync([id, p], { logStart: 0, hw: 0, cleaned: 0 });
    });
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const meta = this.topic(name);
    return { name, config: meta.config, partitions: this.partitionOffsets(name, meta) };
  }

  async listTopics(): Promise<readonly string[]> {
    this.checkOpen();
    this.store.root.resetReadTxn();
    return [...this.store.topics.getKeys()];
  }

  async deleteTopic(name: string): Promise<void> {
    const { id, config } = this.topic(name);
    const { topics, partitions, batches } = this.store;
    await this.store.root.transaction(() => {
      if (topics.get(name)?.id !== id) return;
      topics.removeSync(name);
      for (let p = 0; p < config.partitions; p++) {
        partitions.removeSync([id, p]);
        for (const key of batches.getKeys({ start: [id, p, 0], end: [id, p, Number.MAX_SAFE_INTEGER] })) batches.removeSync(key);
      }
    });
    this.notifier.changed();
  }

  async produce(topic: string, records: readonly ProduceRecord[]): Promise<readonly ProduceResult[]> {
    checkRecordArray(topic, records);
    const meta = this.topic(topic);
    if (records.length === 0) return [];
    const byPartition = this.assignPartitions(topic, meta, records);
    const now = Date.now();
    const encoded = [...byPartition].map(([partition, group]) => ({ partition, batch: encodeBatch(group, now) }));
    const { topics, partitions, batches } = this.store;
    const results: ProduceResult[] = [];
    await this.store.root.transaction(() => {
      if (topics.get(topic)?.id !== meta.id) throw unknownTopic(topic);
      for (const { partition, batch } of encoded) {
        const state = partitions.get([meta.id, partition])!;
        const baseOffset = state.hw;
        setBaseOffset(batch.bytes, baseOffset);
        const lastOffset = baseOffset + batch.count - 1;
        batches.putSync([meta.id, partition, lastOffset], asBuffer(batch.bytes));
        partitions.putSync([meta.id, partition], { ...state, hw: lastOffset + 1 });
        results.push({ partition, baseOffset, count: batch.count });
      }
    });
    if (this.durability === "disk") await this.store.root.flushed;
    this.notifier.changed();
    return results;
  }

  private assignPartitions(topic: string, meta: TopicMeta, records: readonly ProduceRecord[]): Map<number, ProduceRecord[]> {
    const { partitions, compacted } = meta.config;
    const byPartition = new Map<number, ProduceRecord[]>();
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      checkProduceRecord(topic, record, i);
      checkRecordSize(topic, record, this.maxRecordBytes);
      if (compacted && record.key === null) {
        throw new LogError("InvalidArgument", `topic ${topic} is compacted, so every record needs a key`);
      }
      if (record.partition !== undefined) checkPartition(topic, record.partition, partitions);
      const partition = this.partitioner.partition(record.key, record.partition, partitions);
      let group = byPartition.get(partition);
      if (!group) byPartition.set(partition, (group = []));
      group.push(record);
    }
    return byPartition;
  }

  async read(topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<ReadResult> {
    const meta = this.topic(topic);
    checkPartition(topic, partition, meta.config.partitions);
    checkOffset(topic, partition, offset);
    const { maxRecords, maxBytes, deadline } = readLimits(options);
    for (;;) {
      const result = this.readNow(topic, meta, partition, offset, maxRecords, maxBytes);
      if (result.records.length > 0 || result.nextOffset > offset || Date.now() >= deadline || options.signal?.aborted) return result;
      await this.waitForChange(deadline, options.signal);
    }
  }

  async readColumns(topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<ColumnarReadResult> {
    const meta = this.topic(topic);
    checkPartition(topic, partition, meta.config.partitions);
    checkOffset(topic, partition, offset);
    const { maxRecords, maxBytes, deadline } = readLimits(options);
    for (;;) {
      const result = this.readColumnsNow(topic, meta, partition, offset, maxRecords, Math.min(maxBytes, COLUMNS_MAX_BYTES));
      if (result.columns.count > 0 || result.nextOffset > offset || Date.now() >= deadline || options.signal?.aborted) return result;
      await this.waitForChange(deadline, options.signal);
    }
  }

  /**
   * `readNow` into columns. Batches are fetched with `getBinaryFast`, a view into LMDB's reused
   * read buffer (or its memory map) rather than a fresh copy per batch as `getRange` gives: the
   * decoder copies the span it takes straight into the columns' data, so each byte is copied once
   * out of LMDB's buffer, and a read covering many batches still yields one buffer.
   */
  readColumnsNow(topic: string, meta: TopicMeta, partition: number, offset: number, maxRecords: number, maxBytes: number): ColumnarReadResult {
    const state = this.partitionState(topic, meta, partition);
    if (offset > state.hw) {
      throw new LogError("InvalidOffset", `offset ${offset} is past the end of ${topic}[${partition}] (high watermark ${state.hw})`);
    }
    const from = Math.max(offset, state.logStart);
    if (from >= state.hw) return { columns: emptyColumns(), nextOffset: from, highWatermark: state.hw, logStartOffset: state.logStart };
    const batches = this.store.batches;
    const where = `${topic}[${partition}]`;
    // Offsets are unique, so no more than this many records can come back.
    const most = Math.min(maxRecords, state.hw - from);
    let out: ColumnsBuilder | undefined;
    let nextOffset = state.hw;
    let bytes = 0;
    // Keys first: a get between the steps of a range iteration would share LMDB's key buffer.
    const keys = [...batches.getKeys({ start: [meta.id, partition, from], end: [meta.id, partition, state.hw] })];
    for (const key of keys) {
      const value = batches.getBinaryFast(key);
      if (value === undefined) continue;
      // `length`, not `byteLength`: lmdb-js sets it to the size of the value in its reused buffer.
      const length = value.length;
      out ??= sizedBuilder(value, length, most, maxBytes);
      const taken = decodeBatchColumns(value, length, from, out, maxRecords, maxBytes - bytes, where);
      bytes += taken.bytes;
      if (!taken.complete) {
        nextOffset = out.offsets[out.count - 1]! + 1;
        break;
      }
      if (out.count >= maxRecords || bytes >= maxBytes) {
        nextOffset = key[2] + 1;
        break;
      }
    }
    return { columns: out?.finish() ?? emptyColumns(), nextOffset, highWatermark: state.hw, logStartOffset: state.logStart };
  }

  /** Sleeps until something is committed (in any process) or the deadline passes. */
  async waitForChange(deadline: number, signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    await this.notifier.wait(deadline, signal);
    this.store.root.resetReadTxn();
  }

  /** A synchronous read of what is committed now; the building block of `read` and of group polls. */
  readNow(topic: string, meta: TopicMeta, partition: number, offset: number, maxRecords: number, maxBytes: number): ReadResult {
    const state = this.partitionState(topic, meta, partition);
    if (offset > state.hw) {
      throw new LogError("InvalidOffset", `offset ${offset} is past the end of ${topic}[${partition}] (high watermark ${state.hw})`);
    }
    const from = Math.max(offset, state.logStart);
    if (from >= state.hw) return { records: NO_RECORDS, nextOffset: from, highWatermark: state.hw, logStartOffset: state.logStart };
    const records: LogRecord[] = [];
    let nextOffset = state.hw;
    let bytes = 0;
    const where = `${topic}[${partition}]`;
    for (const { key, value } of this.store.batches.getRange({ start: [meta.id, partition, from], end: [meta.id, partition, state.hw] })) {
      const taken = decodeBatch(value, from, records, maxRecords, maxBytes - bytes, where);
      bytes += taken.bytes;
      if (!taken.complete) {
        nextOffset = records[records.length - 1]!.offset + 1;
        break;
      }
      if (records.length >= maxRecords || bytes >= maxBytes) {
        nextOffset = key[2] + 1;
        break;
      }
    }
    return { records, nextOffset, highWatermark: state.hw, logStartOffset: state.logStart };
  }

  async offsets(topic: string): Promise<readonly PartitionOffsets[]> {
    return this.partitionOffsets(topic, this.topic(topic));
  }

  private partitionOffsets(topic: string, meta: TopicMeta): PartitionOffsets[] {
    const result: PartitionOffsets[] = [];
    for (let p = 0; p < meta.config.partitions; p++) {
      const state = this.partitionState(topic, meta, p);
      result.push({ partition: p, logStartOffset: state.logStart, highWatermark: state.hw });
    }
    return result;
  }

  partitionState(topic: string, meta: TopicMeta, partition: number): PartitionState {
    const state = this.store.partitions.get([meta.id, partition]);
    if (!state) throw unknownTopic(topic);
    return state;
  }

  async committed(group: string, topic: string): Promise<readonly TopicPartitionOffset[]> {
    this.topic(topic);
    const result: TopicPartitionOffset[] = [];
    for (const { key, value } of this.store.groups.getRange({ start: ["o", group, topic, 0], end: ["o", group, topic, Number.MAX_SAFE_INTEGER] })) {
      result.push({ topic, partition: key[3] as number, offset: value as number });
    }
    return result;
  }

  async consumer(options: ConsumerOptions): Promise<GroupConsumer> {
    this.checkOpen();
    checkConsumerOptions(options);
    const topics = options.topics.map((name) => ({ name, meta: this.topic(name) }));
    const consumer = await EmbeddedGroupConsumer.join(this, options, topics, () => this.consumers.delete(consumer));
    this.consumers.add(consumer);
    return consumer;
  }

  async compact(topic: string): Promise<CompactionResult> {
    const meta = this.topic(topic);
    if (!meta.config.compacted) throw new LogError("InvalidArgument", `topic ${topic} is not compacted (cleanup.policy=delete)`);
    let removed = 0;
    let kept = 0;
    for (let p = 0; p < meta.config.partitions; p++) {
      const result = await compactPartition(this.store, topic, meta, p, Date.now());
      removed += result.removed;
      kept += result.kept;
    }
    this.notifier.changed();
    return { topic, removed, kept };
  }

  /** Retention for delete-policy topics, compaction for compacted ones whose dirty part is large. */
  async runMaintenance(): Promise<void> {
    if (this.closed) return;
    this.store.root.resetReadTxn();
    for (const { key: name, value: meta } of this.store.topics.getRange()) {
      for (let p = 0; p < meta.config.partitions; p++) {
        if (meta.config.compacted) {
          const state = this.store.partitions.get([meta.id, p]);
          if (state && needsCompaction(state)) await compactPartition(this.store, name, meta, p, Date.now());
        } else if (meta.config.retentionMs !== null) {
          await applyRetention(this.store, meta, p, Date.now() - meta.config.retentionMs);
        }
      }
    }
  }

  /** The topic's metadata, re-read when another process may have created or deleted it. */
  topic(name: string): TopicMeta {
    this.checkOpen();
    checkTopicName(name);
    let meta = this.store.topics.get(name);
    if (!meta) {
      this.store.root.resetReadTxn();
      meta = this.store.topics.get(name);
    }
    if (!meta) throw unknownTopic(name);
    return meta;
  }

  private checkOpen(): void {
    if (this.closed) throw new LogError("Closed", `the embedded log in ${this.store.dir} is closed`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.consumers].map((c) => c.close()));
    this.closed = true;
    if (this.maintenance) clearInterval(this.maintenance);
    this.notifier.close();
    await this.store.root.close();
  }
}

/** The limits of a read, checked as the Kafka backend checks them. */
function readLimits(options: ReadOptions): { maxRecords: number; maxBytes: number; deadline: number } {
  return {
    maxRecords: readLimit("maxRecords", options.maxRecords, DEFAULT_MAX_RECORDS, 1),
    maxBytes: readLimit("maxBytes", options.maxBytes, DEFAULT_MAX_BYTES, 1),
    deadline: Date.now() + readLimit("waitMs", options.waitMs, 0, 0),
  };
}

/**
 * Columns sized from the first batch read: its records per byte, times what the limits allow
 * (`most` records, `maxBytes` of keys and values). A good guess spares the builder regrowing.
 */
function sizedBuilder(first: Uint8Array, length: number, most: number, maxBytes: number): ColumnsBuilder {
  const count = Math.max(1, new DataView(first.buffer, first.byteOffset, length).getUint32(4, true));
  const perRecord = Math.max(1, (length - 24) / count);
  const records = Math.max(1, Math.min(most, Math.ceil(maxBytes / Math.max(1, perRecord - 22)) + count));
  return new ColumnsBuilder(records, records * perRecord);
}

const unknownTopic = (topic: string) => new LogError("UnknownTopic", `topic ${topic} does not exist`);

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
