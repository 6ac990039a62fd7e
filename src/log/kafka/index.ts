/**
 * The Kafka backend of the carls `Log`, on kafkajs. Partitions are chosen by carls (murmur2, as
 * the embedded backend does); values over a topic's max.message.bytes are chunked (see
 * chunking.ts); `compact()` forces a log-cleaner pass (see compact.ts), leaving marker
 * tombstones with the key `COMPACTION_MARKER_KEY` that other Kafka clients should ignore.
 */
import type { LogLocation } from "../location.ts";
import type { Admin, KafkaConfig } from "kafkajs";
import { kafkajs } from "./kafkajs.ts";
import { COLUMNS_MAX_BYTES } from "../columns.ts";
import { ColumnsSink } from "./columns-sink.ts";
import { LogError } from "../errors.ts";
import type {
  ColumnarReadResult,
  CompactionResult,
  ConsumerOptions,
  GroupConsumer,
  Log,
  PartitionOffsets,
  ProduceRecord,
  ProduceResult,
  ReadOptions,
  ReadResult,
  TopicConfig,
  TopicDescription,
  TopicPartitionOffset,
} from "../types.ts";
import { compactNow } from "./compact.ts";
import { probeBrokers } from "./connect.ts";
import { openGroupConsumer } from "./consumer.ts";
import { closed } from "./failures.ts";
import { readInto, readPartition } from "./fetch.ts";
import { createCluster } from "./internals.ts";
import { committedOffsets, topicOffsets } from "./offsets.ts";
import { kafkaConfig, resolveOptions, type KafkaLogOptions } from "./options.ts";
import { Producer } from "./produce.ts";
import { TopicAdmin } from "./topics.ts";
import { Wire } from "./wire.ts";

export { COMPACTION_MARKER_KEY } from "./records.ts";
export type { KafkaLogLevel, KafkaLogOptions, KafkaSaslOptions } from "./options.ts";

class KafkaLog implements Log {
  readonly backend = "kafka";
  private closed = false;
  private readonly consumers = new Set<GroupConsumer>();
  private readonly topics: TopicAdmin;
  private readonly producer: Producer;

  constructor(
    readonly location: LogLocation,
    private readonly config: KafkaConfig,
    private readonly admin: Admin,
    private readonly wire: Wire,
    replicationFactor: number,
    maxRecordBytes: number,
  ) {
    this.topics = new TopicAdmin(admin, wire, replicationFactor);
    this.producer = new Producer(wire, this.topics, maxRecordBytes);
  }

  async createTopic(name: string, config: TopicConfig): Promise<void> {
    this.checkOpen();
    await this.topics.create(name, config);
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    this.checkOpen();
    const config = await this.topics.config(name);
    return { name, config, partitions: await topicOffsets(this.wire, name) };
  }

  async listTopics(): Promise<readonly string[]> {
    this.checkOpen();
    return this.topics.list();
  }

  async deleteTopic(name: string): Promise<void> {
    this.checkOpen();
    await this.topics.delete(name);
  }

  async produce(topic: string, records: readonly ProduceRecord[]): Promise<readonly ProduceResult[]> {
    this.checkOpen();
    return this.producer.produce(topic, records);
  }

  async read(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<ReadResult> {
    this.checkOpen();
    return readPartition(this.wire, topic, partition, offset, options);
  }

  /** The same read as `read`, into columns (see columns-sink.ts): no object per record. */
  async readColumns(topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<ColumnarReadResult> {
    this.checkOpen();
    const clamp = Number.isSafeInteger(options.maxBytes) && options.maxBytes! > COLUMNS_MAX_BYTES;
    const { taken, ...rest } = await readInto(this.wire, topic, partition, offset, clamp ? { ...options, maxBytes: COLUMNS_MAX_BYTES } : options, new ColumnsSink());
    return { ...rest, columns: taken };
  }

  async offsets(topic: string): Promise<readonly PartitionOffsets[]> {
    this.checkOpen();
    return topicOffsets(this.wire, topic);
  }

  async committed(group: string, topic: string): Promise<readonly TopicPartitionOffset[]> {
    this.checkOpen();
    return committedOffsets(this.wire, group, topic);
  }

  async consumer(options: ConsumerOptions): Promise<GroupConsumer> {
    this.checkOpen();
    // A client per consumer: kafkajs shares its committed-offset cache between a client's consumers.
    const consumer = await openGroupConsumer(new kafkajs.Kafka(this.config), this.wire, options, (c) => this.consumers.delete(c));
    this.consumers.add(consumer);
    return consumer;
  }

  async compact(topic: string): Promise<CompactionResult> {
    this.checkOpen();
    return compactNow(this.wire, this.topics, this.producer, topic);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.consumers].map((c) => c.close()));
    await Promise.allSettled([this.admin.disconnect(), this.wire.close()]);
  }

  private checkOpen(): void {
    if (this.closed) throw closed();
  }
}

/** Connects to Kafka; `BrokerUnreachable` if no broker answers within `connectionTimeoutMs`. */
export async function openKafkaLog(options: KafkaLogOptions): Promise<Log> {
  const resolved = resolveOptions(options);
  await probeBrokers(resolved);
  const config = kafkaConfig(resolved);
  const kafka = new kafkajs.Kafka(config);
  const admin = kafka.admin();
  const cluster = createCluster(config, kafka.logger());
  try {
    await admin.connect();
    await cluster.connect();
    await cluster.refreshMetadata();
  } catch (error) {
    await Promise.allSettled([admin.disconnect(), cluster.disconnect()]);
    throw new LogError("BrokerUnreachable", `cannot connect to Kafka brokers ${resolved.brokers.join(", ")}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const wire = new Wire(cluster, () => createCluster(config, kafka.logger()));
  return new KafkaLog({ backend: "kafka", ...options }, config, admin, wire, resolved.replicationFactor, resolved.maxRecordBytes);
}
