import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { BankWriter, NeighbourBankView, VectorBankView, bankTopics, decodeEnvelope, encodeEnvelope } from "../src/bank/index.ts";
import { Effect, Either } from "effect";
import { bankWriter, vectorBank } from "../src/bank/effect.ts";
import { logLayer } from "../src/log/effect.ts";
import { BankFollower, type BankPosition } from "../src/bank/follower.ts";
import { hashBytes, hashString, readKey } from "../src/bank/key-bytes.ts";
import { StepCounts } from "../src/bank/step-counts.ts";
import { readSnapshot, readSnapshotFile, writeSnapshotFile } from "../src/bank/snapshot.ts";
import { VectorApplier } from "../src/bank/vector-applier.ts";
import { VectorStore } from "../src/bank/vector-store.ts";
import type { Log } from "../src/log/index.ts";
import { DEAD_LETTER_HEADERS, deadLetterTopic } from "../src/schema/dead-letter.ts";
import { denseVector, encodeVector } from "../src/schema/vector.ts";
import { readAll } from "./support/conformance.ts";
import { embeddedBackend, freshNamespace, kafkaBackend, withLog as withBackendLog, type Backend } from "./support/backends.ts";

const scratch = mkdtempSync(join(tmpdir(), "carls-bank-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
const enc = new TextEncoder();
const dec = new TextDecoder();
const vec = (...values: number[]) => Float32Array.from(values);

for (const backend of [embeddedBackend(), await kafkaBackend()]) bankSuite(backend);
storeSuite();

function bankSuite(backend: Backend): void {
  describe(`knowledge bank on ${backend.name}`, () => {
    const withLog = (body: (log: Log, namespace: string) => Promise<void>) => withBackendLog(backend, "t", body);

    it("materialises upserts and deletes into lookups, with steps, a miss mask and a policy for missing keys", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "emb");
        await writer.upsertVectors([{ key: "a", values: vec(1, 2, 3) }, { key: "b", values: vec(4, 5, 6) }], 7);
        await writer.upsertVectors([{ key: "a", values: vec(9, 9, 9) }], 8);
        await writer.delete(["b"]);
        const view = await VectorBankView.open(log, ns, "emb", { follow: false });
        assert.equal(view.size, 1);
        assert.equal(view.dim, 3);
        const zeros = view.lookup(["a", "b", "c"], { steps: true });
        assert.deepEqual([...zeros.values], [9, 9, 9, 0, 0, 0, 0, 0, 0]);
        assert.deepEqual([...zeros.found], [1, 0, 0]);
        assert.deepEqual([...zeros.steps], [8, -1, -1]);
        assert.equal(view.lookup(["a"]).steps, undefined, "steps only when asked for");
        const initialised = view.lookup(["c", "a"], { missing: (key, row) => row.fill(key.charCodeAt(0)) });
        assert.deepEqual([...initialised.values], [99, 99, 99, 9, 9, 9]);
        assert.throws(() => view.lookup(["a", "zz"], { missing: "error" }), /no value for key "zz"/);
        assert.throws(() => view.lookup(["a"], { missing: "bogus" as "zeros" }), { message: 'lookup: missing must be "zeros", "error" or a function (key, row) => void, got "bogus"' });
        await assert.rejects(view.awaitVersion(Number.NaN, { timeoutMs: 60_000 }), /awaitVersion needs a checkpoint step \(an integer\), got NaN/);
        assert.deepEqual({ min: view.version().minStep, max: view.version().maxStep }, { min: 8, max: 8 });
        assert.equal(view.stepOf("b"), -1);
        await view.close();
      }));

    it("refuses NaN and infinite values and bad steps at the writer, and sends such a record written around it to the dead letters", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "finite", { partitions: 1 });
        await assert.rejects(writer.upsertVectors([{ key: "a", values: vec(1, 2) }, { key: "n", values: vec(0, NaN) }], 1), /bank .*kb\.finite: key "n" has NaN at 1; a bank holds finite values only/);
        await assert.rejects(writer.upsertVectors([{ key: "i", values: vec(-Infinity, 0) }], 1), /key "i" has -Infinity at 0/);
        await assert.rejects(writer.upsertVectors([{ key: "a", values: vec(1, 2) }], -5), /step must be a checkpoint step \(an integer ≥ 0\) or -1, got -5/);
        await assert.rejects(writer.upsertNeighbours([], Number.NaN), /step must be .* got NaN/);
        const topic = bankTopics(ns, "finite").bank;
        await writer.upsertVectors([{ key: "a", values: vec(1, 0) }, { key: "b", values: vec(0, 1) }, { key: "c", values: vec(1, 1) }], 2);
        const nan = (key: string) => ({ key: enc.encode(key), value: encodeEnvelope("vector", -1, encodeVector(denseVector(vec(0, NaN), 3))), partition: 0 });
        await log.produce(topic, [nan("b"), nan("n")]);
        const view = await VectorBankView.open(log, ns, "finite", { follow: false });
        assert.deepEqual([view.size, view.stepOf("a"), view.stepOf("b"), view.stepOf("n")], [2, 2, -1, -1], "nothing of the refused upserts was written; a key whose value came as NaN reads as missing");
        const letters = await readAll(log, deadLetterTopic(topic), 0);
        assert.deepEqual(letters.map((l) => [dec.decode(l.key!), dec.decode(l.headers[DEAD_LETTER_HEADERS.reason]!)]), ["b", "n"].map((key) => [key, "vector value 1 is NaN or infinite; a bank holds finite values only (the key reads as missing until a finite value comes)"]));
        assert.deepEqual((await view.nearest(vec(1, 0), 3)).map((n) => n.key), ["a", "c"]);
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

    it("rolls forward a write cut short between its history and bank copies, so the history replays what readers saw", () =>
      withLog(async (log, ns) => {
        const topics = bankTopics(ns, "cut");
        const writer = await BankWriter.open(log, ns, "cut", { partitions: 1 });
        await writer.upsertVectors([{ key: "a", values: vec(1, 1) }], 1);
        // A writer that dies after its history produce: the bank produce never happens.
        const dying = new Proxy(log, {
          get(target, prop) {
            if (prop === "produce") return (topic: string, records: never) => (topic === topics.bank ? Promise.reject(new Error("killed")) : target.produce(topic, records));
            const value = Reflect.get(target, prop) as unknown;
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
        await assert.rejects((await BankWriter.open(dying, ns, "cut", { partitions: 1 })).upsertVectors([{ key: "a", values: vec(2, 2) }, { key: "b", values: vec(3, 3) }], 2), /killed/);
        const before = await VectorBankView.open(log, ns, "cut", { follow: false });
        assert.deepEqual(before.version().position.historyOffsets, [1], "the bank's readers saw only the first version");
        await before.close();

        assert.equal(await writer.rollForward(0), 2, "the two versions the dead writer left in the history alone");
        assert.equal(await writer.rollForward(0), 0, "and nothing the second time");
        const live = await VectorBankView.open(log, ns, "cut", { follow: false });
        assert.deepEqual(Array.from(live.lookup(["a", "b"]).values), [2, 2, 3, 3]);
        const replayed = await VectorBankView.open(log, ns, "cut", { replay: true });
        await replayed.replayTo(live.version().position);
        assert.deepEqual(Array.from(replayed.lookup(["a", "b"]).values), [2, 2, 3, 3], "the history up to the live position is what the live view holds");
        await Promise.all([live.close(), replayed.close()]);
      }));

    it("follows new versions in the background: awaitVersion, lag, and a clear timeout", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "live");
        const empty = await VectorBankView.open(log, ns, "live", { pollWaitMs: 100 });
        await empty.awaitVersion(7, { minKeys: 0, timeoutMs: 1_000 });
        await assert.rejects(empty.awaitVersion(0, { timeoutMs: 200 }), /timed out after 200 ms waiting for .*step 0 on 1\+ keys/, "an empty bank has no key yet");
        await empty.close();
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

    it("offers the same operations as effect values: scoped views, interruptible waits, BankError", async () => {
      const ns = freshNamespace();
      const program = Effect.gen(function* () {
        const writer = yield* bankWriter(ns, "fx");
        yield* writer.upsertVectors([{ key: "a", values: vec(1, 0) }, { key: "b", values: vec(0, 1) }, { key: "c", values: vec(1, 0.1) }], 4);
        const bank = yield* vectorBank(ns, "fx", { pollWaitMs: 50 });
        yield* bank.awaitVersion(4, { minKeys: 3, timeoutMs: 10_000 });
        const { values, found } = yield* bank.lookup(["a", "zz"]);
        const { steps } = yield* bank.lookup(["zz", "b"], { steps: true });
        const nearest = yield* bank.nearest(vec(1, 0), 2);
        const interrupted = yield* Effect.either(Effect.timeoutFail(bank.awaitVersion(5, { timeoutMs: 60_000 }), { duration: "200 millis", onTimeout: () => "interrupted" as const }));
        const failed = yield* Effect.either(bank.lookup(["zz"], { missing: "error" }));
        return { values: [...values], found: [...found], steps: [...steps], nearest: nearest.map((n) => n.key), interrupted, failed, version: yield* bank.version, closed: bank.view };
      });
      const result = await Effect.runPromise(Effect.provide(Effect.scoped(program), logLayer(backend.url)));
      assert.deepEqual(result.values, [1, 0, 0, 0]);
      assert.deepEqual(result.found, [1, 0]);
      assert.deepEqual(result.steps, [-1, 4]);
      assert.deepEqual(result.nearest, ["a", "c"]);
      assert.ok(Either.isLeft(result.interrupted) && result.interrupted.left === "interrupted", "a wait is interrupted by the timeout around it");
      assert.ok(Either.isLeft(result.failed) && result.failed.left._tag === "BankError" && result.failed.left.bank === "fx" && /zz/.test(result.failed.left.message), "a missing key under the error policy fails with a BankError naming it");
      assert.equal(result.version.minStep, 4);
      const log = await backend.open();
      try {
        await (await BankWriter.open(log, ns, "fx")).upsertVectors([{ key: "a", values: vec(9, 9) }], 5);
        await new Promise((r) => setTimeout(r, 400));
        assert.equal(result.closed.stepOf("a"), 4, "the view stopped following when its scope ended");
      } finally {
        await log.close();
      }
    });

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
        assert.deepEqual([...after.lookup(["k0", "k1"], { steps: true }).steps], [2, 1]);
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

    it("keeps keys as UTF-8 through the topic, lookups, row keys and a snapshot", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "utf8", { partitions: 2 });
        const keys = ["é", "日本語", "🎉 party", "plain", "a\u0000b", "\uFEFFbom"];
        await writer.upsertVectors(keys.map((key, i) => ({ key, values: vec(i, i) })), 3);
        const lists = await BankWriter.open(log, ns, "utf8-lists", { partitions: 2 });
        await lists.upsertNeighbours(keys.map((key) => ({ key, neighbours: { ids: [key], distances: new Float32Array(1) } })), 3);
        const listView = await NeighbourBankView.open(log, ns, "utf8-lists", { follow: false });
        assert.deepEqual(keys.map((key) => listView.get(key)?.ids), keys.map((key) => [key]), "a leading U+FEFF is part of a key and of an id");
        await listView.close();
        const path = join(scratch, `${ns}.utf8.snapshot`);
        const view = await VectorBankView.open(log, ns, "utf8", { follow: false });
        assert.deepEqual([...view.lookup(keys).values], keys.flatMap((_, i) => [i, i]));
        assert.deepEqual([...view.lookup(["e", "日本"]).found], [0, 0]);
        const store = view.vectors!;
        assert.deepEqual(keys.map((key) => store.keyOfRowAt(store.rowOfKey(key))), keys);
        assert.deepEqual(new Set([...store.entries()].map(([key]) => key)), new Set(keys));
        await view.snapshot(path);
        await view.close();
        const restored = await VectorBankView.open(log, ns, "utf8", { follow: false, snapshotPath: path });
        assert.equal(restored.follower.applied, 0);
        assert.deepEqual([...restored.lookup(keys).values], keys.flatMap((_, i) => [i, i]));
        assert.deepEqual(keys.map((key) => restored.stepOf(key)), keys.map(() => 3));
        await restored.close();
      }));

    it("sends records whose key is not UTF-8 to the dead letters", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "badkeys", { partitions: 1 });
        const topic = bankTopics(ns, "badkeys").bank;
        const value = encodeEnvelope("vector", -1, encodeVector(denseVector(vec(5, 5), 1)));
        await log.produce(topic, [{ key: Uint8Array.of(0x6b, 0xff, 0xfe), value, partition: 0 }]);
        await writer.upsertVectors([{ key: "fine", values: vec(1, 2) }], 1);
        const view = await VectorBankView.open(log, ns, "badkeys", { follow: false });
        assert.equal(view.size, 1);
        const letters = await readAll(log, deadLetterTopic(topic), 0);
        assert.deepEqual(letters.map((l) => dec.decode(l.headers[DEAD_LETTER_HEADERS.reason]!)), ["bank record key is not valid UTF-8"]);
        assert.deepEqual(letters.map((l) => [...l.key!, dec.decode(l.headers[DEAD_LETTER_HEADERS.offset]!)]), [[0x6b, 0xff, 0xfe, "0"]]);
        await view.close();
      }));

    it("applies versions straight from the read buffer (VectorApplier) as the view does, history offsets included", () =>
      withLog(async (log, ns) => {
        const writer = await BankWriter.open(log, ns, "cols", { partitions: 3 });
        const first = Array.from({ length: 300 }, (_, i) => ({ key: `k${i}`, values: vec(i, i + 0.5, -i) }));
        await writer.upsertVectors(first, 1);
        await writer.delete(["k1", "k2", "k3", "nope"]);
        await writer.upsertVectors([{ key: "k2", values: vec(7, 7, 7) }, { key: "k10", values: vec(8, 8, 8) }], 2);
        const topic = bankTopics(ns, "cols").bank;
        await log.produce(topic, [{ key: enc.encode("junk"), value: enc.encode("short"), partition: 0 }, { key: enc.encode("wide"), value: encodeEnvelope("vector", -1, encodeVector(denseVector(vec(1, 2), 2))), partition: 1 }]);
        const view = await VectorBankView.open(log, ns, "cols", { follow: false });
        const applier = new VectorApplier(undefined);
        const follower = new BankFollower(log, bankTopics(ns, "cols"), 3, applier);
        await follower.catchUp();
        const store = applier.store!;
        assert.equal(store.size, 298);
        assert.equal(store.size, view.size);
        const keys = [...first.map((e) => e.key), "nope", "wide", "junk"];
        const ours = store.lookup(keys, { steps: true });
        const theirs = view.lookup(keys, { steps: true });
        assert.deepEqual([...ours.values], [...theirs.values]);
        assert.deepEqual([...ours.found], [...theirs.found]);
        assert.deepEqual([...ours.steps], [...theirs.steps]);
        assert.deepEqual([...store.lookup(["k2", "k10", "k1"]).values], [7, 7, 7, 8, 8, 8, 0, 0, 0]);
        const position: BankPosition = follower.position();
        assert.deepEqual(position, view.version().position);
        assert.equal(position.historyOffsets.reduce((a, b) => a + b, 0), 300 + 4 + 2, "every version written through the writer is in the history");
        const letters = await readAll(log, deadLetterTopic(topic), 0);
        assert.equal(letters.length, 4, "the view and the applier each refused the two bad records");
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

function storeSuite(): void {
  describe("vector store", () => {
    it("counts the keys of each step through runs of adds of one step, removes between them, and -0", () => {
      const counts = new StepCounts();
      const range = () => [counts.min(), counts.max()];
      [3, 3, 3, 7, 7, 3].forEach((step) => counts.add(step));
      assert.deepEqual(range(), [3, 7]);
      counts.remove(7);
      counts.add(7);
      counts.remove(7);
      counts.remove(7);
      assert.deepEqual(range(), [3, 3]);
      counts.add(1);
      [3, 3, 3, 3].forEach((step) => counts.remove(step));
      assert.deepEqual(range(), [1, 1]);
      counts.add(-0);
      counts.add(0);
      counts.remove(1);
      counts.remove(0);
      assert.deepEqual(range(), [0, 0]);
      counts.remove(0);
      assert.deepEqual(range(), [Infinity, -Infinity]);
      // A NaN step (any decoded float is stored) is counted and removed like the others.
      [NaN, NaN, 2].forEach((step) => counts.add(step));
      counts.remove(NaN);
      counts.remove(2);
      assert.deepEqual(range(), [Infinity, -Infinity], "NaN is neither a minimum nor a maximum");
      counts.remove(NaN);
      counts.add(4);
      assert.deepEqual(range(), [4, 4]);
    });

    it("hashes a key alike from its string, its UTF-8 and a record's bytes, short keys and long", () => {
      const keys = ["", "a", "n123456", "n1234567", "日本", "日本a", "日本語", "ü".repeat(4), "a\uD800", "\uFEFFc", "long-key-0001"];
      for (const key of keys) {
        const bytes = enc.encode(key);
        const read = { keyHash: 0 };
        assert.ok(readKey(bytes, 0, bytes.length, read), key);
        assert.equal(hashString(key), hashBytes(bytes, 0, bytes.length), key);
        assert.equal(read.keyHash, hashBytes(bytes, 0, bytes.length), key);
      }
      // Short keys hash from their packed words: keys alike in all but one byte differ.
      const hashes = new Set(Array.from({ length: 7 }, (_, at) => hashString("abcdefg".slice(0, at) + "X" + "abcdefg".slice(at + 1))));
      assert.equal(hashes.size, 7);
    });

    it("agrees with a Map under random upserts and deletes, by string and by bytes, through growth and arena compaction", () => {
      let seed = 7;
      const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
      const store = new VectorStore(2, 4);
      const reference = new Map<string, [number, number]>();
      const keyBytes = (key: string) => {
        const bytes = enc.encode(`__${key}`);
        return { bytes, start: 2, length: bytes.length - 2, hash: hashBytes(bytes, 2, bytes.length - 2) };
      };
      for (let op = 0; op < 40_000; op++) {
        // Keys of up to 7 UTF-8 bytes are kept in the key table's slots, longer ones in its arena.
        const kind = random(4);
        const key = kind === 0 ? `ключ-${random(500)}` : kind === 1 ? `long-key-${random(500)}` : kind === 2 ? `${1_000_000 + random(300)}`.slice(random(3)) : `k${random(3000)}`;
        const step = random(10);
        switch (random(5)) {
          case 0:
            store.set(key, vec(op, step), step);
            reference.set(key, [op, step]);
            break;
          case 1: {
            const { bytes, start, length, hash } = keyBytes(key);
            const value = new Uint8Array(13);
            new DataView(value.buffer).setFloat32(5, op, true);
            new DataView(value.buffer).setFloat32(9, step, true);
            store.setFromKeyBytes(bytes, start, length, hash, value, 5, step);
            reference.set(key, [op, step]);
            break;
          }
          case 2: {
            const { bytes, start, length, hash } = keyBytes(key);
            assert.equal(store.deleteKeyBytes(bytes, start, length, hash) >= 0, reference.delete(key));
            break;
          }
          case 3:
            assert.equal(store.delete(key) >= 0, reference.delete(key));
            break;
          default: {
            const row = store.rowOfKey(key);
            assert.equal(row >= 0, reference.has(key));
            if (row >= 0) assert.equal(store.keyOfRowAt(row), key);
          }
        }
      }
      assert.equal(store.size, reference.size);
      const keys = [...reference.keys(), "absent", "ключ-9999"];
      const { values, found, steps } = store.lookup(keys, { steps: true });
      keys.forEach((key, i) => {
        const expected = reference.get(key);
        assert.equal(found[i], expected ? 1 : 0, key);
        assert.deepEqual([values[2 * i], values[2 * i + 1]], expected ?? [0, 0], key);
        assert.equal(steps[i], expected ? expected[1] : -1);
        assert.equal(store.stepOf(key), expected ? expected[1] : -1);
      });
      assert.deepEqual(new Map([...store.entries()].map(([key, row]) => [key, [...store.storage.subarray(2 * row, 2 * row + 2)]])), reference);
      assert.deepEqual([...store.liveRows()], [...store.entries()].map(([, row]) => row));
      assert.deepEqual({ min: store.steps.min(), max: store.steps.max() }, { min: Math.min(...[...reference.values()].map((v) => v[1])), max: Math.max(...[...reference.values()].map((v) => v[1])) });
    });

    it("copies values bit for bit into a caller's array at any offset, rows of every width, misses zeroed", () => {
      for (const dim of [1, 3, 16, 17, 40]) {
        const store = new VectorStore(dim, 2);
        // A float32 NaN payload in word 0; in word 1, the high half of a float64 signalling NaN (rows of even width are copied as float64 pairs).
        const special = (j: number) => (j === 0 ? 0x7fa00000 : j === 1 ? 0x7ff40000 : 0);
        const bits = (k: number) => Uint32Array.from({ length: dim }, (_, j) => (k * 7919 + j * 104729) >>> 0 | special(j));
        for (let k = 0; k < 50; k++) store.set(`k${k}`, new Float32Array(bits(k).buffer), k);
        const keys = ["k3", "none", "k49", "k0"];
        // Offset 3 floats: not 8-byte aligned, copied as words; offset 2: as pairs where the width is even.
        for (const offset of [3, 2]) {
          const buffer = new Float32Array(offset + keys.length * dim).fill(5);
          // Enough calls for the copy to be optimised: the optimised code must keep the bits as well.
          for (let call = 0; call < 2000; call++) {
            const { values, found, steps } = store.lookup(keys, { out: buffer.subarray(offset), steps: true });
            if (call % 500 !== 0 && call !== 1999) continue;
            assert.deepEqual([...found], [1, 0, 1, 1]);
            assert.deepEqual([...steps], [3, -1, 49, 0]);
            const got = new Uint32Array(values.buffer, values.byteOffset, keys.length * dim);
            assert.deepEqual([...got.subarray(0, dim)], [...bits(3)], `dim ${dim}, offset ${offset}: NaN payloads and every other bit pattern survive`);
            assert.deepEqual([...got.subarray(dim, 2 * dim)], new Array(dim).fill(0));
            assert.deepEqual([...got.subarray(3 * dim)], [...bits(0)]);
            assert.deepEqual([...buffer.subarray(0, offset)], new Array(offset).fill(5), "nothing before the caller's offset is written");
          }
        }
      }
    });

    it("looks up batches of several chunks with misses anywhere, under every missing-key policy", () => {
      for (const dim of [3, 4]) {
        const store = new VectorStore(dim, 16);
        const value = (k: number) => Float32Array.from({ length: dim }, (_, j) => k + j / 10);
        for (let k = 0; k < 1000; k++) store.set(`key${k}`, value(k), k);
        for (let k = 0; k < 1000; k += 7) store.delete(`key${k}`);
        const asked = Array.from({ length: 400 }, (_, i) => `key${(i * 389) % 1200}`);
        const present = (key: string) => Number(key.slice(3)) < 1000 && Number(key.slice(3)) % 7 !== 0;
        const { values, found, steps } = store.lookup(asked, { steps: true });
        asked.forEach((key, i) => {
          const k = Number(key.slice(3));
          assert.equal(found[i], present(key) ? 1 : 0, key);
          assert.equal(steps[i], present(key) ? k : -1, key);
          assert.deepEqual([...values.subarray(i * dim, i * dim + dim)], present(key) ? [...value(k)] : new Array(dim).fill(0), key);
        });
        const missed: string[] = [];
        const filled = store.lookup(asked, { missing: (key, row) => (missed.push(key), row.fill(-1)) });
        assert.deepEqual(missed, asked.filter((key) => !present(key)));
        asked.forEach((key, i) => assert.deepEqual([...filled.values.subarray(i * dim, i * dim + dim)], present(key) ? [...value(Number(key.slice(3)))] : new Array(dim).fill(-1), key));
        assert.throws(() => store.lookup(asked, { missing: "error" }), new RegExp(`no value for key "${asked.find((key) => !present(key))}"`));
      }
    });

    // Short keys are told apart by the words in their slots, long ones (of one length here) by their bytes.
    for (const [what, keyOf] of [["short", (i: number) => `c${i}`], ["long", (i: number) => `a-long-key-${String(i).padStart(7, "0")}`]] as const) {
      it(`tells apart ${what} keys whose hashes are equal, in lookups and single finds`, () => {
        const seen = new Map<number, string>();
        let pair: [string, string] | undefined;
        for (let i = 0; !pair; i++) {
          const key = keyOf(i);
          const other = seen.get(hashString(key));
          if (other !== undefined) pair = [other, key];
          seen.set(hashString(key), key);
        }
        const [first, second] = pair;
        const store = new VectorStore(2, 4);
        store.set(first, Float32Array.of(1, 1), 1);
        store.set(second, Float32Array.of(2, 2), 2);
        const { values, found, steps } = store.lookup([second, first, `${first}x`], { steps: true });
        assert.deepEqual([...values], [2, 2, 1, 1, 0, 0]);
        assert.deepEqual([...found], [1, 1, 0]);
        assert.deepEqual([...steps], [2, 1, -1]);
        store.delete(first);
        assert.deepEqual([...store.lookup([second, first]).found], [1, 0]);
        assert.equal(store.rowOfKey(first), -1);
        assert.equal(store.stepOf(second), 2);
      });
    }

    it("compares keys by their UTF-8, as the writer encodes them (a lone surrogate is U+FFFD)", () => {
      const store = new VectorStore(1);
      store.set("a\uD800", vec(1), 1);
      store.set("日本", vec(2), 1);
      assert.equal(store.rowOfKey("a\uFFFD"), store.rowOfKey("a\uD800"));
      assert.equal(store.keyOfRowAt(store.rowOfKey("a\uD800")), "a\uFFFD");
      assert.deepEqual([...store.lookup(["日本", "日", "a", "日本語"]).found], [1, 0, 0, 0]);
    });

    it("round-trips its rows through a snapshot file into fresh storage, and reads snapshots of the first format", async () => {
      const store = new VectorStore(3);
      ["a", "ü", "c", "d"].forEach((key, i) => store.set(key, vec(i, i, i), i + 10));
      store.delete("c");
      const header = { topic: "ns.kb.x", partitions: 1, dim: 3, count: 3, position: { offsets: [4], historyOffsets: [4] } };
      const path = join(scratch, "rows.snapshot");
      await writeSnapshotFile(path, header, store.rows());
      const applier = new VectorApplier(undefined);
      const file = await readSnapshotFile(path, (h) => applier.storageFor(h.dim, h.count));
      assert.deepEqual(file!.header, header);
      applier.restore(file!.rows);
      const copy = applier.store!;
      assert.equal(file!.rows.values.buffer, copy.storage.buffer, "values were read straight into the store");
      assert.deepEqual([...copy.lookup(["a", "ü", "c", "d"]).values], [0, 0, 0, 1, 1, 1, 0, 0, 0, 3, 3, 3]);
      assert.deepEqual([...copy.lookup(["a", "ü", "d"], { steps: true }).steps], [10, 11, 13]);
      assert.deepEqual((await readSnapshot(path))!.keys, ["a", "ü", "d"]);

      // The first format: the same sections, then the keys as a JSON array.
      const json = enc.encode(JSON.stringify(header));
      const prefix = new Uint8Array((12 + json.length + 7) & ~7);
      prefix.set(enc.encode("CARLSKB1"));
      new DataView(prefix.buffer).setUint32(8, json.length, true);
      prefix.set(json, 12);
      const rows = store.rows();
      const v1 = join(scratch, "v1.snapshot");
      writeFileSync(v1, Buffer.concat([prefix, new Uint8Array(rows.steps.buffer), new Uint8Array(rows.values.buffer), enc.encode(JSON.stringify(["a", "ü", "d"]))]));
      const old = (await readSnapshot(v1))!;
      assert.deepEqual(old.keys, ["a", "ü", "d"]);
      assert.deepEqual([...old.values], [0, 0, 0, 1, 1, 1, 3, 3, 3]);
      assert.deepEqual([...old.steps], [10, 11, 13]);
    });
  });
}
