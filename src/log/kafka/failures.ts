import { LogError } from "../errors.ts";

/**
 * kafkajs wraps protocol errors (which carry `type`, e.g. "UNKNOWN_TOPIC_OR_PARTITION") in retry
 * errors, sometimes twice, or aggregates them; this finds the first `type` along the causes.
 */
export function errorType(error: unknown): string | undefined {
  for (let e = error, depth = 0; typeof e === "object" && e !== null && depth < 8; depth++) {
    const { type, cause, errors } = e as { type?: unknown; cause?: unknown; errors?: unknown };
    if (typeof type === "string") return type;
    e = Array.isArray(errors) && errors.length > 0 ? errors[0] : cause;
  }
  return undefined;
}

const CONNECTION_ERRORS: ReadonlySet<string> = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSNoBrokerAvailableError",
]);

export function isConnectionError(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === "object" && e !== null && depth < 8; depth++) {
    if (CONNECTION_ERRORS.has((e as Error).name)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Errors after which cached partition leaders may be stale and a retry can succeed. */
const STALE_METADATA: ReadonlySet<string> = new Set([
  "NOT_LEADER_FOR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "UNKNOWN_TOPIC_OR_PARTITION",
  "NOT_ENOUGH_REPLICAS",
  "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
  "REQUEST_TIMED_OUT",
]);

/** Whether a kafkajs failure may pass with fresh metadata (never true of our own LogErrors). */
export const isStaleMetadata = (error: unknown): boolean =>
  !(error instanceof LogError) && (STALE_METADATA.has(errorType(error) ?? "") || isConnectionError(error));

export const unknownTopic = (topic: string, cause?: unknown): LogError =>
  new LogError("UnknownTopic", `topic ${topic} does not exist`, { cause });

export const closed = (): LogError => new LogError("Closed", "the Kafka log is closed");

/** Turns a kafkajs failure into a LogError when it has an obvious carls meaning. */
export function translate(error: unknown, topic?: string): unknown {
  if (error instanceof LogError) return error;
  const type = errorType(error);
  if (topic !== undefined && type === "UNKNOWN_TOPIC_OR_PARTITION") return unknownTopic(topic, error);
  if (type === "MESSAGE_TOO_LARGE" || type === "RECORD_LIST_TOO_LARGE") {
    return new LogError("RecordTooLarge", `the broker refused a batch for topic ${topic ?? "?"} as too large`, { cause: error });
  }
  if (isConnectionError(error)) {
    return new LogError("BrokerUnreachable", `Kafka request failed: ${(error as Error).message}`, { cause: error });
  }
  return error;
}
