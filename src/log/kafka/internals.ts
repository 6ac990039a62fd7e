/**
 * Typed access to the parts of kafkajs 2.2.x that its public API does not expose: a `Cluster`
 * (connections and metadata), its `Broker`s and their connections, on which we send our own
 * Produce and Fetch requests (requests.ts): single-partition fetches from an explicit offset,
 * outside any consumer group, and produce requests whose batches we encode ourselves.
 * Everything untyped stays in this file.
 */
import { createRequire } from "node:module";
import type { KafkaConfig, Logger } from "kafkajs";

const require = createRequire(import.meta.url);

/** A record as kafkajs's consumer hands it to `eachBatch` (more fields than its public type shows). */
export interface RawRecord {
  readonly offset: string;
  readonly timestamp: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | Buffer[] | undefined>>;
  readonly isControlRecord: boolean;
}

interface TopicPartitions<P> {
  readonly topic: string;
  readonly partitions: readonly P[];
}

/**
 * A request as kafkajs's `Connection#send` takes it: `encode` returns anything Encoder-like, and
 * the response is decoded (to `D`) and then parsed, which throws for error codes.
 */
export interface ProtocolRequest<T, D = unknown> {
  readonly request: {
    readonly apiKey: number;
    readonly apiVersion: number;
    readonly apiName: string;
    readonly expectResponse?: () => boolean;
    readonly encode: () => Promise<{ buf: Buffer; buffer: Buffer }>;
  };
  readonly response: {
    readonly decode: (payload: Buffer) => Promise<D>;
    readonly parse: (decoded: D) => Promise<T>;
  };
  readonly requestTimeout?: number;
}

export interface MetadataResponse {
  readonly topicMetadata: readonly {
    readonly topic: string;
    readonly isInternal: boolean;
    readonly partitionMetadata: readonly { readonly partitionId: number; readonly leader: number }[];
  }[];
}

export interface Broker {
  readonly connectionPool: { send<T, D>(request: ProtocolRequest<T, D>): Promise<T> };
  disconnect(): Promise<void>;
  /** Metadata of the given topics; all topics for an empty list. */
  metadata(topics: readonly string[]): Promise<MetadataResponse>;
  listOffsets(request: {
    isolationLevel: number;
    topics: readonly TopicPartitions<{ partition: number; timestamp: number }>[];
  }): Promise<{ responses: { topic: string; partitions: { partition: number; offset: string }[] }[] }>;
  offsetFetch(request: {
    groupId: string;
    topics: readonly TopicPartitions<{ partition: number }>[];
  }): Promise<{ responses: { topic: string; partitions: { partition: number; offset: string }[] }[] }>;
}

export interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Refreshes broker metadata (with no target topics: all of them) so `findBroker` knows every node. */
  refreshMetadata(): Promise<void>;
  getNodeIds(): string[];
  findBroker(query: { nodeId: number }): Promise<Broker>;
  findGroupCoordinator(query: { groupId: string }): Promise<Broker>;
}

type ClusterConstructor = new (options: Record<string, unknown>) => Cluster;

const ClusterClass = require("kafkajs/src/cluster") as ClusterConstructor;
const defaultSocketFactory = require("kafkajs/src/network/socketFactory") as () => unknown;
const { createErrorFromCode } = require("kafkajs/src/protocol/error") as { createErrorFromCode(code: number): Error };

/** The kafkajs error for a Kafka error code (with `type` and `retriable`, like kafkajs's own). */
export const createKafkaError = (code: number): Error => createErrorFromCode(code);

/** Sends a request on a broker's connection, as kafkajs's own broker methods do. */
export async function send<T, D>(broker: Broker, request: ProtocolRequest<T, D>): Promise<T> {
  try {
    return await broker.connectionPool.send(request);
  } catch (error) {
    if ((error as Error).name === "KafkaJSConnectionClosedError") await broker.disconnect();
    throw error;
  }
}

/** kafkajs's `ISOLATION_LEVEL.READ_UNCOMMITTED`: carls never writes transactions. */
export const READ_UNCOMMITTED = 0;
/** kafkajs's `EARLIEST_OFFSET` / `LATEST_OFFSET` timestamps for ListOffsets. */
export const EARLIEST = -2;
export const LATEST = -1;

/** A standalone kafkajs Cluster, built the way `Kafka#producer()` builds its own. */
export function createCluster(config: KafkaConfig, logger: Logger): Cluster {
  return new ClusterClass({
    logger,
    socketFactory: defaultSocketFactory(),
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: config.sasl,
    clientId: config.clientId,
    connectionTimeout: config.connectionTimeout,
    requestTimeout: config.requestTimeout,
    enforceRequestTimeout: true,
    retry: config.retry,
    metadataMaxAge: 300_000,
    allowAutoTopicCreation: false,
    isolationLevel: READ_UNCOMMITTED,
  });
}
