import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { open } from "lmdb";
import { openEmbeddedLog, openLog } from "../src/log/index.ts";
import type { EmbeddedLog } from "../src/log/embedded/embedded-log.ts";
import { spawnTsx, until, type Child } from "./support/child-process.ts";
import { bytes, logConformance, readAll, rejectsWith, text } from "./support/conformance.ts";

const root = mkdtempSync(join(tmpdir(), "carls-embedded-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `store-${dirs++}`);

const sharedDir = freshDir();
logConformance("embedded", (options) => openEmbeddedLog({ dir: sharedDir, maintenanceIntervalMs: 0, ...options }));

const CHILD = join(import.meta.dirname, "support", "embedded-child.ts");
const child = (...args: string[]): Child => spawnTsx(CHILD, ...args);

describe("embedded store across processes and crashes", () => {
  it("keeps every acknowledged write, and no torn record, when the writer is SIGKILLed mid-write", async () => {
    const dir = freshDir();
    const setup = await openEmbeddedLog({ dir });
    await setup.createTopic("crash.t", { partitions: 3, compacted: false });
    await setup.close();

    const writer = child("write", dir, "crash.t", "100000", "500");
    await until(() => writer.lines.length >= 20, "the writer to acknowledge 20 batches", 60_000);
    writer.proc.kill("SIGKILL");
    await writer.exited;
    const acked = Math.max(...writer.lines.filter((l) => l.startsWith("acked ")).map((l) => Number(l.slice(6))));

    const log = await openEmbeddedLog({ dir, maintenanceIntervalMs: 0 });
    const seen = new Set<number>();
    for (let p = 0; p < 3; p++) {
      const records = await readAll(log, "crash.t", p);
      assert.deepEqual(records.map((r) => r.offset), records.map((_, i) => i), `partition ${p} offsets are dense`);
      for (const r of records) {
        const id = Number(text(r.key)!.slice(1));
        assert.equal(text(r.value), `value-${id}-`.padEnd(200, "x"), `record ${id} is intact`);
        seen.add(id);
      }
    }
    assert.ok(seen.size >= acked, `all ${acked} acknowledged records survived (found ${seen.size})`);
    assert.equal(seen.size % 500, 0, "only whole batches are visible");
    for (let id = 0; id < seen.size; id++) assert.ok(seen.has(id), `record ${id} present`);
    await log.produce("crash.t", [{ key: bytes("after"), value: bytes("restart") }]);
    await log.close();
  });

  it("lets one process write while two others consume as one group, each record once", async () => {
    const dir = freshDir();
    const setup = await openEmbeddedLog({ dir });
    await setup.createTopic("mp.t", { partitions: 4, compacted: false });
    await setup.close();
    const a = child("consume", dir, "mp.t", "mp-group", "3000");
    const b = child("consume", dir, "mp.t", "mp-group", "3000");
    // Partitions may legally move while the group forms; write only once it has settled into two disjoint halves,
    // so that any partition seen by both members afterwards is a real double ownership.
    const owns = (lines: string[]) => lines.filter((l) => l.startsWith("owns ")).at(-1)?.slice(5).split(",").filter(Boolean) ?? [];
    await until(() => {
      const [ownedByA, ownedByB] = [owns(a.lines), owns(b.lines)];
      return ownedByA.length > 0 && ownedByB.length > 0 && new Set([...ownedByA, ...ownedByB]).size === 4 && ownedByA.length + ownedByB.length === 4;
    }, "the group to split the 4 partitions between its two members", 60_000);
    const writer = child("write", dir, "mp.t", "6", "500");
    assert.equal(await writer.exited, 0);
    await until(() => a.lines.length + b.lines.length >= 3000, "the group to consume 3000 records", 60_000);
    a.proc.kill("SIGTERM");
    b.proc.kill("SIGTERM");
    await Promise.all([a.exited, b.exited]);
    const values = (lines: string[]) => lines.filter((l) => l.startsWith("got ")).map((l) => l.split(" ")[2]!);
    const partitions = (lines: string[]) => new Set(lines.filter((l) => l.startsWith("got ")).map((l) => l.split(" ")[1]));
    const all = [...values(a.lines), ...values(b.lines)];
    assert.equal(all.length, 3000, "no record twice");
    assert.equal(new Set(all).size, 3000, "every record once");
    assert.ok(values(a.lines).length > 0 && values(b.lines).length > 0, "both members worked");
    const overlap = [...partitions(a.lines)].filter((p) => partitions(b.lines).has(p));
    assert.deepEqual(overlap, [], "no partition had two owners");
  });

  it("wakes a reader in another process as soon as a record is committed", async () => {
    const dir = freshDir();
    const log = await openEmbeddedLog({ dir });
    await log.createTopic("wake.t", { partitions: 1, compacted: false });
    const reader = child("wait", dir, "wake.t");
    await until(() => reader.lines.includes("waiting"), "the reader to start waiting", 30_000);
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    await log.produce("wake.t", [{ key: null, value: bytes("ping"), partition: 0 }]);
    await until(() => reader.lines.some((l) => l.startsWith("woke")), "the reader to wake", 10_000);
    const latency = Date.now() - sent;
    assert.ok(reader.lines.includes("woke ping"));
    assert.ok(latency < 1_000, `woke ${latency} ms after the commit`);
    await reader.exited;
    await log.close();
  });
});

describe("embedded consumer groups: rebalancing", () => {
  it("hands a partition over only inside poll, after the owner could commit: nothing is delivered twice", async () => {
    const log = await openEmbeddedLog({ dir: freshDir(), maintenanceIntervalMs: 0 });
    await log.createTopic("rb.t", { partitions: 2, compacted: false });
    const values = (from: number) => Array.from({ length: 100 }, (_, i) => ({ key: bytes(`k${from + i}`), value: bytes(`v${from + i}`) }));
    await log.produce("rb.t", values(0));
    const received: string[] = [];
    const take = (batches: readonly { records: readonly { value: Uint8Array | null }[] }[]) => {
      for (const b of batches) received.push(...b.records.map((r) => text(r.value)!));
    };
    const a = await log.consumer({ group: "rb", topics: ["rb.t"], sessionTimeoutMs: 3_000 });
    take(await a.poll({ waitMs: 500 }));
    const b = await log.consumer({ group: "rb", topics: ["rb.t"], sessionTimeoutMs: 3_000 });
    // a is still "processing" what it polled while its heartbeat timer fires and b asks for a share.
    await new Promise((r) => setTimeout(r, 1_500));
    take(await b.poll({ waitMs: 100 }));
    await a.commit();
    await log.produce("rb.t", values(100));
    const deadline = Date.now() + 20_000;
    while (received.length < 200 && Date.now() < deadline) {
      take(await a.poll({ waitMs: 100 }));
      take(await b.poll({ waitMs: 100 }));
      await a.commit();
      await b.commit();
    }
    assert.ok((await b.assignment()).length > 0, "b got a partition");
    assert.equal(new Set(received).size, 200, "every record was delivered");
    assert.equal(received.length, 200, "no record was delivered twice");
    await a.close();
    await b.close();
    await log.close();
  });
});

describe("embedded store: bad directories and retention", () => {
  it("reports a corrupt store file, naming the directory", async () => {
    const dir = freshDir();
    const log = await openEmbeddedLog({ dir });
    await log.close();
    writeFileSync(join(dir, "log.mdb"), Buffer.alloc(64 * 1024, 0x5a));
    await rejectsWith(openEmbeddedLog({ dir }), "StoreCorrupt", dir);
  });

  it("refuses a store written in another format version", async () => {
    const dir = freshDir();
    const log = await openEmbeddedLog({ dir });
    await log.close();
    const raw = open({ path: join(dir, "log.mdb"), maxDbs: 8 });
    await raw.openDB({ name: "meta" }).put("carls.log.format", 99);
    await raw.close();
    await rejectsWith(openEmbeddedLog({ dir }), "StoreVersionMismatch", "format version 99");
  });

  it("rejects a bad durability option", async () => {
    await rejectsWith(openEmbeddedLog({ dir: freshDir(), durability: "never" as "disk" }), "InvalidArgument", "durability");
  });

  it("openLog names what is wrong with a location or configuration, about the backend chosen", async () => {
    await rejectsWith(openLog("embedded:"), "InvalidArgument", 'log location "embedded:" names no directory: embedded:<dir>');
    await rejectsWith(openLog("foo:bar"), "InvalidArgument", 'log location "foo:bar" is neither embedded:<dir> nor kafka://');
    await rejectsWith(openLog({ backend: "disk" } as never), "InvalidArgument", 'backend must be "embedded" or "kafka", got "disk"');
    const message = await openLog({ backend: "embedded", dir: freshDir(), durability: "never" } as never).then(
      () => "",
      (error: Error) => error.message,
    );
    assert.match(message, /^invalid embedded log configuration:\n/);
    assert.match(message, /durability/);
    assert.doesNotMatch(message, /brokers/, "nothing about the Kafka backend's settings");
  });

  it("drops batches older than retentionMs and moves the log start", async () => {
    const log = (await openEmbeddedLog({ dir: freshDir(), maintenanceIntervalMs: 0 })) as EmbeddedLog;
    await log.createTopic("ret.t", { partitions: 1, compacted: false, retentionMs: 60_000 });
    const old = Date.now() - 3_600_000;
    await log.produce("ret.t", [{ key: null, value: bytes("old1"), partition: 0, timestamp: old }, { key: null, value: bytes("old2"), partition: 0, timestamp: old }]);
    await log.produce("ret.t", [{ key: null, value: bytes("new"), partition: 0 }]);
    await log.runMaintenance();
    const [offsets] = await log.offsets("ret.t");
    assert.deepEqual([offsets!.logStartOffset, offsets!.highWatermark], [2, 3]);
    const fromZero = await log.read("ret.t", 0, 0);
    assert.deepEqual(fromZero.records.map((r) => [r.offset, text(r.value)]), [[2, "new"]]);
    await log.close();
  });

  it("compacts by itself once half of a partition is dirty", async () => {
    const log = (await openEmbeddedLog({ dir: freshDir(), maintenanceIntervalMs: 0 })) as EmbeddedLog;
    await log.createTopic("auto.t", { partitions: 1, compacted: true });
    for (let round = 0; round < 3; round++) {
      await log.produce("auto.t", Array.from({ length: 1000 }, (_, i) => ({ key: bytes(`k${i}`), value: bytes(`r${round}`) })));
    }
    await log.runMaintenance();
    const records = await readAll(log, "auto.t");
    assert.equal(records.length, 1000);
    assert.ok(records.every((r) => text(r.value) === "r2"));
    await log.close();
  });
});
