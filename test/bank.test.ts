import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { BankWriter, NeighbourBankView, VectorBankView, bankTopics, decodeEnvelope } from "../src/bank/index.ts";
import type { Log } from "../src/log/index.ts";
import { DEAD_LETTER_HEADERS, deadLetterTopic } from "../src/schema/dead-letter.ts";
import { readAll } from "./support/conformance.ts";
import { embeddedBackend, freshNamespace, kafkaBackend, type Backend } from "./support/backends.ts";

const scratch = mkdtempSync(join(tmpdir(), "carls-bank-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const enc = new TextEncoder();
const dec = new TextDecoder();
const vec = (...values: number[]) => Float32Array.from(values);

for (const backend of [embeddedBackend(), await kafkaBackend()]) bankSuite(backend);

function bankSuite(backend: Backend): void {
  describe(`knowledge bank on ${backend.name}`, () => {
    const withLog = async (body: (log: Log, namespace: string) => Promise<void>) => {
      const log = await backend.open();
      try {
        await body(log, freshNamespace());
      } finally {
        await log.close();
      }
    };

    it("materialises upserts and deletes into lookups, with steps, a miss mask and a policy for missing keys", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "emb");
        await writer.upsertVectors([{ key: "a", values: vec(1, 2, 3) }, { key: "b", values: vec(4, 5, 6) }], 7);
        await writer.upsertVectors([{ key: "a", values: vec(9, 9, 9) }], 8);
        await writer.delete(["b"]);
        const view = await VectorBankView.open(log, ns, "emb", { follow: false });
        assert.equal(view.size, 1);
        assert.equal(view.dim, 3);
        const zeros = view.lookup(["a", "b", "c"]);
        assert.deepEqual([...zeros.values], [9, 9, 9, 0, 0, 0, 0, 0, 0]);
        assert.deepEqual([...zeros.found], [1, 0, 0]);
        assert.deepEqual([...zeros.steps], [8, -1, -1]);
        const initialised = view.lookup(["c", "a"], { missing: (key, row) => row.fill(key.charCodeAt(0)) });
        assert.deepEqual([...initialised.values], [99, 99, 99, 9, 9, 9]);
        assert.throws(() => view.lookup(["a", "zz"], { missing: "error" }), /no value for key "zz"/);
        assert.deepEqual({ min: view.version().minStep, max: view.version().maxStep }, { min: 8, max: 8 });
        assert.equal(view.stepOf("b"), -1);
        await view.close();
      }));

    it("writes every version to the history, and each bank record says where its history copy is", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "hist", { partitions: 2 });
        for (let step = 0; step < 3; step++) await writer.upsertVectors(["x", "y", "z"].map((key) => ({ key, values: vec(step, step) })), step);
        const topics = bankTopics(ns, "hist");
        let versions = 0;
        for (let p = 0; p < 2; p++) {
          const history = await readAll(log, topics.history, p);
          versions += history.length;
          for (const record of await readAll(log, topics.bank, p)) {
            const { historyOffset, payload } = decodeEnvelope(record.value);
            const copy = history.find((h) => h.offset === historyOffset);
            assert.ok(copy, `history offset ${historyOffset} exists in partition ${p}`);
            assert.equal(dec.decode(copy.key!), dec.decode(record.key!));
            assert.deepEqual(decodeEnvelope(copy.value).payload, payload);
          }
        }
        assert.equal(versions, 9, "3 keys × 3 steps in the history");
        const view = await VectorBankView.open(log, ns, "hist", { follow: false });
        assert.deepEqual(view.version().position.historyOffsets.reduce((a, b) => a + b, 0), 9, "the view has applied the whole history");
        await view.close();
      }));

    it("follows new versions in the background: awaitVersion, lag, and a clear timeout", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "live");
        await writer.upsertVectors([{ key: "n1", values: vec(1) }, { key: "n2", values: vec(2) }], 1);
        const view = await VectorBankView.open(log, ns, "live", { pollWaitMs: 100 });
        await view.awaitVersion(1, { timeoutMs: 5_000 });
        await assert.rejects(view.awaitVersion(2, { timeoutMs: 300 }), /timed out after 300 ms waiting for .*step 2/);
        const waiting = view.awaitVersion(2, { timeoutMs: 10_000 });
        await writer.upsertVectors([{ key: "n1", values: vec(10) }], 2);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(view.stepOf("n1"), 2, "the new version arrived without a catchUp");
        await writer.upsertVectors([{ key: "n2", values: vec(20) }], 2);
        await waiting;
        assert.deepEqual([...view.lookup(["n1", "n2"]).values], [10, 20]);
        assert.equal(view.lag(), 0);
        await view.close();
        await writer.upsertVectors([{ key: "n3", values: vec(3) }], 3);
        await view.catchUp();
        assert.equal(view.size, 3);
      }));

    it("restores from a snapshot and reads only the tail of the topic", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "snap");
        const first = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, values: vec(i, -i) }));
        await writer.upsertVectors(first, 1);
        const path = join(scratch, `${ns}.snapshot`);
        const before = await VectorBankView.open(log, ns, "snap", { follow: false, snapshotPath: path });
        await before.snapshot(path);
        await before.close();
        await writer.upsertVectors([{ key: "k0", values: vec(100, 100) }, { key: "new", values: vec(7, 7) }], 2);
        const after = await VectorBankView.open(log, ns, "snap", { follow: false, snapshotPath: path });
        assert.equal(after.follower.applied, 2, "only the two records after the snapshot were read");
        assert.equal(after.size, 501);
        assert.deepEqual([...after.lookup(["k0", "k499", "new"]).values], [100, 100, 499, -499, 7, 7]);
        assert.deepEqual([...after.lookup(["k0", "k1"]).steps], [2, 1]);
        await after.close();
        await assert.rejects(VectorBankView.open(log, ns, "snap", { follow: false, snapshotPath: path, dim: 3 }), /snapshot does not fit .*dim is 2, not 3/);
      }));

    it("sends records it cannot use to the dead letters, with the reason, and carries on", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "dlq");
        await writer.upsertVectors([{ key: "good", values: vec(1, 1) }], 1);
        const topic = bankTopics(ns, "dlq").bank;
        await log.produce(topic, [{ key: enc.encode("junk"), value: enc.encode("not an envelope at all") }]);
        await writer.upsertVectors([{ key: "wide", values: vec(1, 2, 3) }], 1);
        await writer.upsertVectors([{ key: "after", values: vec(2, 2) }], 1);
        const view = await VectorBankView.open(log, ns, "dlq", { follow: false });
        assert.deepEqual([...view.lookup(["good", "after"]).found], [1, 1]);
        assert.equal(view.size, 2);
        const letters = await readAll(log, deadLetterTopic(topic), 0);
        const reasons = letters.map((l) => dec.decode(l.headers[DEAD_LETTER_HEADERS.reason]!));
        assert.equal(letters.length, 2);
        assert.match(reasons[0]!, /shorter than its 16-byte envelope|bad magic/);
        assert.match(reasons[1]!, /dim 3 in a bank of dim 2/);
        await view.close();
      }));

    it("keeps neighbour lists, and the view agrees with the bank after compaction", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "nbr");
        await writer.upsertNeighbours([{ key: "a", neighbours: { ids: ["b", "c"], distances: vec(0.1, 0.2) } }], 4);
        await writer.upsertNeighbours([{ key: "a", neighbours: { ids: ["c"], distances: vec(0.05) } }, { key: "b", neighbours: { ids: ["a"], distances: vec(0.1) } }], 5);
        await log.compact(bankTopics(ns, "nbr").bank);
        const view = await NeighbourBankView.open(log, ns, "nbr", { follow: false });
        assert.deepEqual(view.get("a")?.ids, ["c"]);
        assert.equal(view.get("a")?.step, 5);
        assert.ok(Math.abs(view.get("a")!.distances[0]! - 0.05) < 1e-7);
        assert.deepEqual({ size: view.size, min: view.version().minStep }, { size: 2, min: 5 });
        await view.close();
      }));
  });
}
