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

/** One of a broker's connections (kafkajs's `Connection`). */
interface Connection {
  isConnected(): boolean;
  connect(): Promise<unknown>;
}

export interface Broker {
  readonly connectionPool: {
    send<T, D>(request: ProtocolRequest<T, D>): Promise<T>;
    /** Connects the connection the request goes over (once per caller: see `send`) and returns it. */
    getConnectionByRequest(request: ProtocolRequest<unknown, unknown>): Promise<Connection>;
    /** The connections: everything but Fetch goes over the first, Fetch over the second. */
    readonly pool: readonly Connection[];
  };
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

const FETCH = 1;
/** Connections being connected, shared by the requests waiting for them. */
const connecting = new WeakMap<Connection, Promise<unknown>>();

/**
 * kafkajs connects a broker's fetch connection on its first request (and again after it was
 * closed), but once per request that finds it unconnected: concurrent first fetches each open a
 * socket, of which all but the last are never closed (and keep the process alive). Connect it once.
 */
async function connected(broker: Broker, request: ProtocolRequest<unknown, unknown>): Promise<void> {
  const { pool } = broker.connectionPool;
  const connection = pool[request.request.apiKey === FETCH ? 1 : 0];
  if (connection === undefined || connection.isConnected()) return;
  let pending = connecting.get(connection);
  if (pending === undefined) {
    pending = broker.connectionPool.getConnectionByRequest(request).finally(() => connecting.delete(connection));
    connecting.set(connection, pending);
  }
  await pending;
}

/** Sends a request on a broker's connection, as kafkajs's own broker methods do. */
export async function send<T, D>(broker: Broker, request: ProtocolRequest<T, D>): Promise<T> {
  try {
    await connected(broker, request as ProtocolRequest<unknown, unknown>);
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
