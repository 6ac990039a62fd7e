import { setTimeout as sleep } from "node:timers/promises";
import { kafkajs } from "./kafkajs.ts";
import { LogError } from "../errors.ts";
import { isConnectionError } from "./failures.ts";
import { kafkaConfig, type ResolvedKafkaOptions } from "./options.ts";

const RETRY_PAUSE_MS = 200;

/**
 * Checks that some broker answers within `connectionTimeoutMs`, trying the brokers in turn. Each
 * attempt uses a throwaway client without retries: kafkajs's own retries would outlive the
 * timeout and keep the process busy after we have given up.
 */
export async function probeBrokers(options: ResolvedKafkaOptions): Promise<void> {
  const { brokers, connectionTimeoutMs } = options;
  const deadline = Date.now() + connectionTimeoutMs;
  let lastError: unknown;
  for (let attempt = 0; ; attempt++) {
    const first = attempt % brokers.length;
    const admin = new kafkajs.Kafka({
      ...kafkaConfig(options, { brokers: [...brokers.slice(first), ...brokers.slice(0, first)], retries: 0 }),
      connectionTimeout: Math.max(100, deadline - Date.now()),
    }).admin();
    try {
      await admin.connect();
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0 || !isConnectionError(lastError)) break;
    await sleep(Math.min(RETRY_PAUSE_MS, remaining));
  }
  if ((lastError as Error | undefined)?.name === "KafkaJSSASLAuthenticationError") {
    throw new LogError("AuthenticationFailed", `Kafka brokers ${brokers.join(", ")} refused the SASL credentials: ${(lastError as Error).message}`, {
      cause: lastError,
    });
  }
  throw new LogError(
    "BrokerUnreachable",
    `cannot reach Kafka brokers ${brokers.join(", ")} within ${connectionTimeoutMs} ms: ${(lastError as Error)?.message ?? "unknown error"}`,
    { cause: lastError },
  );
}
