/**
 * `npm test`: starts one local Kafka broker for the whole run (tests that need Kafka fail, never
 * skip, if it cannot start), runs every test file with node's test runner, then stops the broker.
 * A single file can also run on its own; it then starts its own broker.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ensureKafkaBroker } from "./support/kafka-broker.ts";

const here = import.meta.dirname;
const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : readdirSync(here).filter((f) => f.endsWith(".test.ts")).sort().map((f) => join(here, f));

const broker = await ensureKafkaBroker();
let code = 1;
try {
  code = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...files], {
      stdio: "inherit",
      env: {
        ...process.env,
        CARLS_KAFKA_BROKERS: broker.brokers.join(","),
        ...(broker.saslBrokers ? { CARLS_KAFKA_SASL_BROKERS: broker.saslBrokers.join(",") } : {}),
      },
    });
    child.on("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
} finally {
  await broker.stop();
}
process.exit(code);
