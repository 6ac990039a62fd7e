import type { ConnectionOptions } from "node:tls";
import type { KafkaConfig, logCreator, logLevel, SASLOptions } from "kafkajs";
import { kafkajs } from "./kafkajs.ts";
import { LogError } from "../errors.ts";

export type KafkaLogLevel = "nothing" | "error" | "warn" | "info" | "debug";

/** SASL credentials, in the shape kafkajs takes them. */
export interface KafkaSaslOptions {
  readonly mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
  readonly username: string;
  readonly password: string;
}

export interface KafkaLogOptions {
  /** Bootstrap brokers as `host:port`. */
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** `true` for TLS with the system's CAs, or Node's TLS options. */
  readonly ssl?: boolean | ConnectionOptions;
  readonly sasl?: KafkaSaslOptions;
  /** How long `openKafkaLog` and each broker connection may take (default 3000 ms). */
  readonly connectionTimeoutMs?: number;
  /** Records larger than this are refused with `RecordTooLarge` (default 64 MiB). */
  readonly maxRecordBytes?: number;
  /** Replication factor of the topics `createTopic` makes (default 1). */
  readonly replicationFactor?: number;
  /** kafkajs's own console logging (default `nothing`). */
  readonly logLevel?: KafkaLogLevel;
}

export interface ResolvedKafkaOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: ConnectionOptions | true | undefined;
  readonly sasl: KafkaSaslOptions | undefined;
  readonly connectionTimeoutMs: number;
  readonly maxRecordBytes: number;
  readonly replicationFactor: number;
  readonly logLevel: KafkaLogLevel;
}

const BROKER_ADDRESS = /^[^\s:/]+:(\d{1,5})$/;
const SASL_MECHANISMS: ReadonlySet<string> = new Set(["plain", "scram-sha-256", "scram-sha-512"]);
const LOG_LEVELS: Readonly<Record<KafkaLogLevel, logLevel>> = {
  nothing: kafkajs.logLevel.NOTHING,
  error: kafkajs.logLevel.ERROR,
  warn: kafkajs.logLevel.WARN,
  info: kafkajs.logLevel.INFO,
  debug: kafkajs.logLevel.DEBUG,
};

const invalid = (field: string, problem: string): LogError =>
  new LogError("InvalidArgument", `Kafka option ${field}: ${problem}`);

function positiveInteger(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw invalid(field, `must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export function resolveOptions(options: KafkaLogOptions): ResolvedKafkaOptions {
  if (typeof options !== "object" || options === null) throw invalid("options", "must be an object");
  const { brokers } = options;
  if (!Array.isArray(brokers) || brokers.length === 0) throw invalid("brokers", "must be a non-empty array of host:port");
  for (const broker of brokers) {
    const port = typeof broker === "string" ? BROKER_ADDRESS.exec(broker)?.[1] : undefined;
    if (port === undefined || Number(port) < 1 || Number(port) > 65535) {
      throw invalid("brokers", `${JSON.stringify(broker)} is not host:port`);
    }
  }
  const clientId = options.clientId ?? "carls";
  if (typeof clientId !== "string" || clientId.length === 0) throw invalid("clientId", "must be a non-empty string");
  const { sasl } = options;
  const ssl = options.ssl === false ? undefined : options.ssl;
  if (ssl !== undefined && ssl !== true && (typeof ssl !== "object" || ssl === null)) {
    throw invalid("ssl", "must be a boolean or an object of TLS options");
  }
  if (sasl !== undefined) {
    if (typeof sasl !== "object" || sasl === null || !SASL_MECHANISMS.has(sasl.mechanism)) {
      throw invalid("sasl", `mechanism must be one of ${[...SASL_MECHANISMS].join(", ")}`);
    }
    if (typeof sasl.username !== "string" || typeof sasl.password !== "string") {
      throw invalid("sasl", "username and password must be strings");
    }
  }
  const level = options.logLevel ?? "nothing";
  if (!Object.hasOwn(LOG_LEVELS, level)) throw invalid("logLevel", `must be one of ${Object.keys(LOG_LEVELS).join(", ")}`);
  return {
    brokers: [...brokers],
    clientId,
    ssl,
    sasl,
    connectionTimeoutMs: positiveInteger("connectionTimeoutMs", options.connectionTimeoutMs, 3000),
    maxRecordBytes: positiveInteger("maxRecordBytes", options.maxRecordBytes, 64 * 1024 * 1024),
    replicationFactor: positiveInteger("replicationFactor", options.replicationFactor, 1),
    logLevel: level,
  };
}

const silent: logCreator = () => () => {};

/** The kafkajs client configuration; `brokers` and `retries` can be narrowed for probing. */
export function kafkaConfig(
  options: ResolvedKafkaOptions,
  overrides: { readonly brokers?: readonly string[]; readonly retries?: number } = {},
): KafkaConfig {
  return {
    brokers: [...(overrides.brokers ?? options.brokers)],
    clientId: options.clientId,
    ...(options.ssl !== undefined && { ssl: options.ssl }),
    // Our mechanism union is kafkajs's SASLOptions spread over one object type.
    ...(options.sasl !== undefined && { sasl: { ...options.sasl } as SASLOptions }),
    connectionTimeout: options.connectionTimeoutMs,
    retry: { retries: overrides.retries ?? 5, initialRetryTime: 100, maxRetryTime: 3000 },
    logLevel: LOG_LEVELS[options.logLevel],
    ...(options.logLevel === "nothing" && { logCreator: silent }),
  };
}
