import { Either, ParseResult, Schema } from "effect";
import { LogError } from "./errors.ts";
import { reopenLog } from "./location.ts";
import type { Log } from "./types.ts";

const PositiveInt = Schema.Int.pipe(Schema.positive());
const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative());

const EmbeddedConfig = Schema.Struct({
  backend: Schema.Literal("embedded"),
  dir: Schema.NonEmptyString,
  durability: Schema.optional(Schema.Literal("disk", "process")),
  maxRecordBytes: Schema.optional(PositiveInt),
  maintenanceIntervalMs: Schema.optional(NonNegativeInt),
});

const KafkaConfig = Schema.Struct({
  backend: Schema.Literal("kafka"),
  brokers: Schema.NonEmptyArray(Schema.NonEmptyString),
  clientId: Schema.optional(Schema.NonEmptyString),
  ssl: Schema.optional(Schema.Union(Schema.Boolean, Schema.Record({ key: Schema.String, value: Schema.Unknown }))),
  sasl: Schema.optional(
    Schema.Struct({
      mechanism: Schema.Literal("plain", "scram-sha-256", "scram-sha-512"),
      username: Schema.String,
      password: Schema.String,
    }),
  ),
  connectionTimeoutMs: Schema.optional(PositiveInt),
  maxRecordBytes: Schema.optional(PositiveInt),
  replicationFactor: Schema.optional(PositiveInt),
});

/** Where a program's topics live: the embedded store in a directory, or a Kafka cluster. */
export const LogConfig = Schema.Union(EmbeddedConfig, KafkaConfig);
export type LogConfig = typeof LogConfig.Type;

/** `embedded:<dir>` or `kafka://host:port[,host:port...]`, as given on command lines and in env. */
export function parseLogUrl(url: string): LogConfig {
  if (url.startsWith("embedded:")) {
    const dir = url.slice("embedded:".length);
    if (dir.length === 0) throw new LogError("InvalidArgument", `log location ${JSON.stringify(url)} names no directory: embedded:<dir>`);
    return { backend: "embedded", dir };
  }
  if (url.startsWith("kafka://")) {
    const brokers = url.slice("kafka://".length).split(",").filter((b) => b.length > 0);
    if (brokers.length > 0) return { backend: "kafka", brokers: [brokers[0]!, ...brokers.slice(1)] };
  }
  throw new LogError("InvalidArgument", `log location ${JSON.stringify(url)} is neither embedded:<dir> nor kafka://host:port[,host:port]`);
}

export async function openLog(config: LogConfig | string): Promise<Log> {
  const given: unknown = typeof config === "string" ? parseLogUrl(config) : config;
  const backend = typeof given === "object" && given !== null ? (given as { backend?: unknown }).backend : undefined;
  // Checked against the chosen backend's settings only, so that the message is about those.
  if (backend !== "embedded" && backend !== "kafka") throw new LogError("InvalidArgument", `invalid log configuration: backend must be "embedded" or "kafka", got ${JSON.stringify(backend)}`);
  const decoded: Either.Either<LogConfig, ParseResult.ParseError> =
    backend === "embedded" ? Schema.decodeUnknownEither(EmbeddedConfig)(given, { onExcessProperty: "error" }) : Schema.decodeUnknownEither(KafkaConfig)(given, { onExcessProperty: "error" });
  if (Either.isLeft(decoded)) {
    throw new LogError("InvalidArgument", `invalid ${String(backend)} log configuration:\n${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`);
  }
  return reopenLog(decoded.right);
}
