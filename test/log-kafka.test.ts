import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { openLog, partitionForKey, type Log } from "../src/log/index.ts";
import { bytes, logConformance, readAll, text } from "./support/conformance.ts";
import { ensureKafkaBroker } from "./support/kafka-broker.ts";

// Started at load time so the conformance suite below is registered synchronously; it fails, never
// skips, when the broker cannot start.
const broker = await ensureKafkaBroker();
after(() => broker.stop());
const brokers = broker.brokers as [string, ...string[]];

logConformance("kafka", (options) => openLog({ backend: "kafka", brokers, ...options }));

/** Runs kcat with `input` on stdin; resolves with its stdout, rejects with its stderr. */
function kcat(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("kcat", ["-b", brokers[0], ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`kcat ${args.join(" ")} exited ${code}: ${err}`))));
    child.stdin.end(input ?? "");
  });
}

describe("interop with kcat (librdkafka), a third-party client", () => {
  let log: Log;
  const ns = `kcat${randomUUID().slice(0, 8)}`;
  before(async () => {
    log = await openLog({ backend: "kafka", brokers });
  });
  after(() => log?.close());

  it("kcat reads what carls wrote: partitions, offsets, keys, values, headers", async () => {
    const topic = `${ns}.from-carls`;
    await log.createTopic(topic, { partitions: 3, compacted: false });
    const keys = Array.from({ length: 30 }, (_, i) => `node-${i}`);
    await log.produce(topic, keys.map((k, i) => ({ key: bytes(k), value: bytes(`value ${i}`), headers: { step: bytes(String(i)) } })));
    const out = await kcat(["-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p|%o|%k|%s|%h\n"]);
    const rows = out.trim().split("\n").map((line) => line.split("|"));
    assert.equal(rows.length, 30);
    const expected = new Map<string, { partition: number; offset: number }>();
    for (let p = 0; p < 3; p++) for (const r of await readAll(log, topic, p)) expected.set(text(r.key)!, { partition: p, offset: r.offset });
    for (const [partition, offset, key, value, headers] of rows) {
      const i = keys.indexOf(key!);
      assert.ok(i >= 0, `kcat saw key ${key}`);
      assert.equal(value, `value ${i}`);
      assert.equal(headers, `step=${i}`);
      assert.deepEqual({ partition: Number(partition), offset: Number(offset) }, expected.get(key!));
      assert.equal(Number(partition), partitionForKey(bytes(key!), 3));
    }
  });

  it("carls reads what kcat wrote, and places keys in the partitions librdkafka's murmur2 chose", async () => {
    const topic = `${ns}.from-kcat`;
    await log.createTopic(topic, { partitions: 4, compacted: false });
    const lines = Array.from({ length: 40 }, (_, i) => `user-${i * 7}:payload ${i}`);
    lines.push("gone:");
    await kcat(["-P", "-t", topic, "-K", ":", "-Z", "-H", "origin=kcat", "-X", "partitioner=murmur2_random"], `${lines.join("\n")}\n`);
    const seen = new Map<string, string | null>();
    for (let p = 0; p < 4; p++) {
      for (const r of await readAll(log, topic, p)) {
        const key = text(r.key)!;
        assert.equal(p, partitionForKey(r.key!, 4), `key ${key} in partition ${p}`);
        assert.equal(text(r.headers.origin ?? null), "kcat");
        seen.set(key, text(r.value));
      }
    }
    assert.equal(seen.size, 41);
    assert.equal(seen.get("user-21"), "payload 3");
    assert.equal(seen.get("gone"), null, "kcat's -Z empty value arrives as a tombstone");
  });
});
