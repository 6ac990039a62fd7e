/**
 * Both streaming-store backends for tests that must pass on each: the embedded store in a fresh
 * directory, and Kafka on the broker `npm test` started (or one started for this file alone).
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { openLog, type Log } from "../../src/log/index.ts";
import { ensureKafkaBroker, type KafkaBroker } from "./kafka-broker.ts";

export interface Backend {
  readonly name: "embedded" | "kafka";
  /** Opens a client of the backend's shared store (several clients see the same topics). */
  open(): Promise<Log>;
  /** The same store as `open()` would reach, as a `carls` log URL or directory (for child processes). */
  readonly url: string;
}

let broker: Promise<KafkaBroker> | undefined;

export function embeddedBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), "carls-test-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return { name: "embedded", url: `embedded:${dir}`, open: () => openLog(`embedded:${dir}`) };
}

export async function kafkaBackend(): Promise<Backend> {
  broker ??= ensureKafkaBroker().then((b) => {
    after(() => b.stop());
    return b;
  });
  const { brokers } = await broker;
  return { name: "kafka", url: `kafka://${brokers[0]}`, open: () => openLog(`kafka://${brokers[0]}`) };
}

/** A namespace no other test uses. */
export const freshNamespace = (prefix = "t"): string => `${prefix}${randomUUID().slice(0, 8)}`;

/** Runs `body` with a fresh client of `backend` and a namespace no other test uses, and closes the client after. */
export async function withLog(backend: Backend, prefix: string, body: (log: Log, namespace: string) => Promise<void>): Promise<void> {
  const log = await backend.open();
  try {
    await body(log, freshNamespace(prefix));
  } finally {
    await log.close();
  }
}
