/**
 * A Kafka broker for tests and benchmarks: the cluster in CARLS_KAFKA_BROKERS (comma-separated
 * host:port) if set, else a local single-node broker run by scripts/kafka (Maven jars, Java 17),
 * on 127.0.0.1:${CARLS_KAFKA_PORT:-19092}. Fails loudly: a test that needs Kafka must not pass
 * silently without one.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface KafkaBroker {
  readonly brokers: string[];
  /**
   * A SASL_PLAINTEXT listener of the same cluster accepting user `carls`, password `carls-secret`
   * with PLAIN and SCRAM-SHA-256 (scripts/kafka/start makes it on port+2; for another cluster,
   * CARLS_KAFKA_SASL_BROKERS).
   */
  readonly saslBrokers: string[] | undefined;
  /** Stops the broker if this call started it; a no-op for CARLS_KAFKA_BROKERS or a broker already running. */
  stop(): Promise<void>;
}

const SCRIPTS = fileURLToPath(new URL("../../scripts/kafka/", import.meta.url));
const SCRIPT_TIMEOUT_MS = 5 * 60_000;

interface ScriptRun {
  readonly ok: boolean;
  readonly stdout: string;
  readonly output: string;
}

function runScript(name: string): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile("bash", [SCRIPTS + name], { timeout: SCRIPT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ ok: error === null, stdout, output: `${stdout}${stderr}${error && !stderr ? String(error) : ""}` });
    });
  });
}

async function script(name: string): Promise<string> {
  const run = await runScript(name);
  if (!run.ok) throw new Error(`scripts/kafka/${name} failed; Kafka tests cannot run without a broker:\n${run.output.trim()}`);
  return run.stdout;
}

const list = (brokers: string): string[] => brokers.split(",").map((b) => b.trim()).filter((b) => b.length > 0);

export async function ensureKafkaBroker(): Promise<KafkaBroker> {
  const external = process.env.CARLS_KAFKA_BROKERS?.trim();
  if (external) {
    return { brokers: list(external), saslBrokers: process.env.CARLS_KAFKA_SASL_BROKERS ? list(process.env.CARLS_KAFKA_SASL_BROKERS) : undefined, stop: async () => {} };
  }
  await script("install");
  const started = (await script("start")).trim() === "started";
  const port = Number(process.env.CARLS_KAFKA_PORT ?? "19092");
  return {
    brokers: [`127.0.0.1:${port}`],
    saslBrokers: [`127.0.0.1:${port + 2}`],
    stop: async () => {
      if (started) await script("stop");
    },
  };
}
