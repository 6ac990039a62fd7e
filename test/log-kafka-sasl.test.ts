import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import { isLogError, openLog, type Log } from "../src/log/index.ts";
import { ensureKafkaBroker } from "./support/kafka-broker.ts";

const broker = await ensureKafkaBroker();
after(() => broker.stop());

function saslBrokers(): [string, ...string[]] {
  const brokers = broker.saslBrokers;
  if (!brokers || brokers.length === 0) throw new Error("no SASL listener: set CARLS_KAFKA_SASL_BROKERS for a cluster not started by scripts/kafka/start");
  return brokers as [string, ...string[]];
}

describe("Kafka backend over SASL (a real SASL_PLAINTEXT listener)", () => {
  for (const mechanism of ["plain", "scram-sha-256"] as const) {
    it(`authenticates with ${mechanism} and round-trips records`, async () => {
      const log: Log = await openLog({ backend: "kafka", brokers: saslBrokers(), sasl: { mechanism, username: "carls", password: "carls-secret" } });
      try {
        const topic = `sasl${randomUUID().slice(0, 8)}.t`;
        await log.createTopic(topic, { partitions: 1, compacted: false });
        await log.produce(topic, [{ key: null, value: new TextEncoder().encode(mechanism), partition: 0 }]);
        const { records } = await log.read(topic, 0, 0);
        assert.equal(new TextDecoder().decode(records[0]!.value!), mechanism);
        await log.deleteTopic(topic);
      } finally {
        await log.close();
      }
    });

    it(`refuses a wrong ${mechanism} password with an error that says authentication failed`, async () => {
      await assert.rejects(
        openLog({ backend: "kafka", brokers: saslBrokers(), sasl: { mechanism, username: "carls", password: "wrong" }, connectionTimeoutMs: 5_000 }),
        (error: unknown) => {
          assert.ok(isLogError(error, "AuthenticationFailed"), `expected AuthenticationFailed, got ${String(error)}`);
          assert.match((error as Error).message, /refused the SASL credentials/);
          assert.match((error as Error).message, new RegExp(saslBrokers()[0]));
          return true;
        },
      );
    });
  }

  it("cannot reach the SASL listener without credentials", async () => {
    await assert.rejects(openLog({ backend: "kafka", brokers: saslBrokers(), connectionTimeoutMs: 3_000 }), (error: unknown) => isLogError(error));
  });
});
