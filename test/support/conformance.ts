/**
 * The streaming-store conformance suite: the same tests, unchanged, for every backend.
 * A backend test file calls `logConformance(name, openLog)`.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  columnKey,
  columnValue,
  isLogError,
  partitionForKey,
  type ColumnarReadResult,
  type Log,
  type LogErrorCode,
  type LogRecord,
  type ProduceRecord,
  type ReadOptions,
  type RecordColumns,
} from "../../src/log/index.ts";

export interface OpenOptions {
  readonly maxRecordBytes?: number;
}
export type OpenLog = (options?: OpenOptions) => Promise<Log>;

const enc = new TextEncoder();
const dec = new TextDecoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);
export const text = (b: Uint8Array | null): string | null => (b === null ? null : dec.decode(b));

export async function rejectsWith(promise: Promise<unknown> | (() => unknown), code: LogErrorCode, mentions?: string): Promise<void> {
  await assert.rejects(
    async () => (typeof promise === "function" ? promise() : promise),
    (error: unknown) => {
      assert.ok(isLogError(error, code), `expected LogError ${code}, got ${String(error)}`);
      if (mentions) assert.match((error as Error).message, new RegExp(mentions.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
      return true;
    },
  );
}

/** Reads a whole partition from its start. */
export async function readAll(log: Log, topic: string, partition = 0): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  const [offsets] = (await log.offsets(topic)).filter((o) => o.partition === partition);
  let offset = offsets!.logStartOffset;
  while (offset < offsets!.highWatermark) {
    const result = await log.read(topic, partition, offset);
    out.push(...result.records);
    offset = result.nextOffset;
  }
  return out;
}

const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex"));

/** The records of columns, checking the column invariants on the way. */
export function columnRecords(columns: RecordColumns): { offset: number; timestamp: number; key: string | null; value: string | null }[] {
  const { count } = columns;
  for (const column of [columns.offsets, columns.timestamps, columns.keyStart, columns.keyLength, columns.valueStart, columns.valueLength]) {
    assert.equal(column.length, count, "one entry per record in every column");
  }
  return Array.from({ length: count }, (_, i) => {
    for (const [data, start, length] of [
      [columns.keyData, columns.keyStart[i]!, columns.keyLength[i]!],
      [columns.valueData, columns.valueStart[i]!, columns.valueLength[i]!],
    ] as const) {
      assert.ok(length >= -1 && start + Math.max(length, 0) <= data.byteLength, `record ${i}: ${start}+${length} lies in its ${data.byteLength}-byte buffer`);
    }
    return { offset: columns.offsets[i]!, timestamp: columns.timestamps[i]!, key: hex(columnKey(columns, i)), value: hex(columnValue(columns, i)) };
  });
}

/** `readColumns` and `read` from the same offset with the same options: asserts they agree, returns the columnar result. */
export async function sameAsRead(log: Log, topic: string, partition: number, offset: number, options?: ReadOptions): Promise<ColumnarReadResult> {
  const records = await log.read(topic, partition, offset, options);
  const columnar = await log.readColumns(topic, partition, offset, options);
  const where = `${topic}[${partition}] from ${offset} with ${JSON.stringify(options ?? {})}`;
  assert.deepEqual(
    columnRecords(columnar.columns),
    records.records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, key: hex(r.key), value: hex(r.value) })),
    `records of ${where}`,
  );
  assert.deepEqual(
    { nextOffset: columnar.nextOffset, highWatermark: columnar.highWatermark, logStartOffset: columnar.logStartOffset },
    { nextOffset: records.nextOffset, highWatermark: records.highWatermark, logStartOffset: records.logStartOffset },
    `offsets of ${where}`,
  );
  return columnar;
}

/** Reads a whole partition from its start with `readColumns`. */
export async function readAllColumns(log: Log, topic: string, partition = 0, options?: ReadOptions): Promise<ReturnType<typeof columnRecords>> {
  const out: ReturnType<typeof columnRecords> = [];
  const [offsets] = (await log.offsets(topic)).filter((o) => o.partition === partition);
  let offset = offsets!.logStartOffset;
  while (offset < offsets!.highWatermark) {
    const result = await log.readColumns(topic, partition, offset, options);
    out.push(...columnRecords(result.columns));
    offset = result.nextOffset;
  }
  return out;
}

export function logConformance(backend: string, open: OpenLog): void {
  describe(`Log conformance: ${backend}`, () => {
    let log: Log;
    const ns = `conf${randomUUID().slice(0, 8)}`;
    const topic = (name: string) => `${ns}.${name}`;

    before(async () => {
      log = await open();
    });
    after(async () => {
      await log?.close();
    });

    describe("topics", () => {
      it("creates a topic, describes it, and accepts the same definition again", async () => {
        await log.createTopic(topic("t1"), { partitions: 3, compacted: false });
        await log.createTopic(topic("t1"), { partitions: 3, compacted: false });
        const description = await log.describeTopic(topic("t1"));
        assert.equal(description.config.partitions, 3);
        assert.equal(description.config.compacted, false);
        assert.deepEqual(
          description.partitions.map((p) => [p.partition, p.logStartOffset, p.highWatermark]),
          [[0, 0, 0], [1, 0, 0], [2, 0, 0]],
        );
        assert.ok((await log.listTopics()).includes(topic("t1")));
      });

      it("refuses to redefine a topic with other partitions or policy", async () => {
        await log.createTopic(topic("t2"), { partitions: 2, compacted: true });
        await rejectsWith(log.createTopic(topic("t2"), { partitions: 4, compacted: true }), "TopicConfigConflict", "partitions 2");
        await rejectsWith(log.createTopic(topic("t2"), { partitions: 2, compacted: false }), "TopicConfigConflict", "compacted true");
      });

      it("rejects invalid topic names and configs, naming what was wrong", async () => {
        await rejectsWith(log.createTopic("bad name!", { partitions: 1, compacted: false }), "InvalidTopicName", "bad name!");
        await rejectsWith(log.createTopic("..", { partitions: 1, compacted: false }), "InvalidTopicName");
        await rejectsWith(log.createTopic("x".repeat(250), { partitions: 1, compacted: false }), "InvalidTopicName");
        await rejectsWith(log.createTopic(topic("zero"), { partitions: 0, compacted: false }), "InvalidArgument", "partitions");
        await rejectsWith(log.createTopic(topic("text"), { partitions: "2" as unknown as number, compacted: false }), "InvalidArgument", 'partitions must be an integer in 1..10000, got "2"');
        await rejectsWith(log.createTopic(topic("none"), undefined as never), "InvalidArgument", "createTopic needs a config { partitions, compacted }, got undefined");
      });

      it("names a missing topic in every operation", async () => {
        const missing = topic("missing");
        await rejectsWith(log.produce(missing, [{ key: null, value: bytes("v") }]), "UnknownTopic", missing);
        await rejectsWith(log.read(missing, 0, 0), "UnknownTopic", missing);
        await rejectsWith(log.offsets(missing), "UnknownTopic", missing);
        await rejectsWith(log.describeTopic(missing), "UnknownTopic", missing);
      });

      it("deletes a topic", async () => {
        await log.createTopic(topic("gone"), { partitions: 1, compacted: false });
        await log.produce(topic("gone"), [{ key: bytes("k"), value: bytes("v") }]);
        await log.deleteTopic(topic("gone"));
        await rejectsWith(log.read(topic("gone"), 0, 0), "UnknownTopic");
        assert.ok(!(await log.listTopics()).includes(topic("gone")));
      });
    });

    describe("produce and read", () => {
      it("round-trips keys, values, headers, timestamps and tombstones with dense offsets", async () => {
        const t = topic("rt");
        await log.createTopic(t, { partitions: 1, compacted: false });
        const results = await log.produce(t, [
          { key: bytes("a"), value: bytes("one"), headers: { h1: bytes("x"), h2: bytes("") }, timestamp: 1_700_000_000_000 },
          { key: bytes("b"), value: null },
          { key: null, value: bytes("no key"), partition: 0 },
          { key: bytes(""), value: new Uint8Array(0) },
        ]);
        assert.deepEqual(results, [{ partition: 0, baseOffset: 0, count: 4 }]);
        const more = await log.produce(t, [{ key: bytes("c"), value: bytes("two") }]);
        assert.deepEqual(more, [{ partition: 0, baseOffset: 4, count: 1 }]);

        const { records, nextOffset, highWatermark } = await log.read(t, 0, 0);
        assert.equal(highWatermark, 5);
        assert.equal(nextOffset, 5);
        assert.deepEqual(records.map((r) => r.offset), [0, 1, 2, 3, 4]);
        assert.deepEqual(records.map((r) => text(r.key)), ["a", "b", null, "", "c"]);
        assert.deepEqual(records.map((r) => text(r.value)), ["one", null, "no key", "", "two"]);
        assert.equal(records[0]!.timestamp, 1_700_000_000_000);
        assert.ok(Math.abs(records[4]!.timestamp - Date.now()) < 60_000);
        assert.deepEqual(Object.fromEntries(Object.entries(records[0]!.headers).map(([k, v]) => [k, text(v)])), { h1: "x", h2: "" });
        assert.deepEqual(records[1]!.headers, {});
      });

      it("reads from any offset, in pages, and reports the high watermark", async () => {
        const t = topic("pages");
        await log.createTopic(t, { partitions: 1, compacted: false });
        for (let b = 0; b < 5; b++) {
          await log.produce(t, Array.from({ length: 20 }, (_, i) => ({ key: bytes(`k${b * 20 + i}`), value: bytes(`v${b * 20 + i}`), partition: 0 })));
        }
        const middle = await log.read(t, 0, 37, { maxRecords: 10 });
        assert.deepEqual(middle.records.map((r) => text(r.value)), Array.from({ length: 10 }, (_, i) => `v${37 + i}`));
        assert.equal(middle.nextOffset, 47);
        assert.equal(middle.highWatermark, 100);
        const all = await readAll(log, t);
        assert.deepEqual(all.map((r) => r.offset), Array.from({ length: 100 }, (_, i) => i));
        const end = await log.read(t, 0, 100);
        assert.equal(end.records.length, 0);
        assert.equal(end.nextOffset, 100);
      });

      it("rejects negative offsets, offsets past the end and unknown partitions", async () => {
        const t = topic("badoffsets");
        await log.createTopic(t, { partitions: 2, compacted: false });
        await log.produce(t, [{ key: null, value: bytes("v"), partition: 0 }]);
        await rejectsWith(log.read(t, 0, -1), "InvalidOffset", "-1");
        await rejectsWith(log.read(t, 0, 5), "InvalidOffset", "5");
        await rejectsWith(log.read(t, 7, 0), "InvalidArgument", "partition 7");
        await rejectsWith(log.produce(t, [{ key: null, value: bytes("v"), partition: 2 }]), "InvalidArgument", "partition 2");
      });

      it("refuses records of the wrong shape before writing any, naming the record and the field, and stays readable", async () => {
        const t = topic("shapes");
        await log.createTopic(t, { partitions: 1, compacted: false });
        const good = { key: bytes("k"), value: bytes("v") };
        const bad = (record: object) => log.produce(t, [good, record as ProduceRecord]);
        await rejectsWith(bad({ key: "alpha", value: bytes("x") }), "InvalidArgument", "record 1 has a key that is a string; keys and values are Uint8Array or null");
        await rejectsWith(bad({ key: null, value: "x" }), "InvalidArgument", "record 1 has a value that is a string");
        await rejectsWith(bad({ key: null }), "InvalidArgument", "record 1 has a value that is undefined");
        await rejectsWith(bad({ key: null, value: bytes("x"), headers: { h: "y" } }), "InvalidArgument", "record 1 has header h that is a string");
        await rejectsWith(bad({ key: null, value: bytes("x"), timestamp: -1 }), "InvalidArgument", "record 1 has timestamp -1");
        await rejectsWith(log.produce(t, undefined as unknown as ProduceRecord[]), "InvalidArgument", "records must be an array, got undefined");
        await log.produce(t, [good]);
        const read = await log.read(t, 0, 0);
        assert.deepEqual(read.records.map((r) => text(r.value)), ["v"], "nothing of the refused calls was written, and the partition reads");
      });

      it("partitions keys with Kafka's murmur2, and honours explicit partitions", async () => {
        const t = topic("keys");
        await log.createTopic(t, { partitions: 4, compacted: false });
        const keys = Array.from({ length: 40 }, (_, i) => `node-${i}`);
        await log.produce(t, keys.map((k) => ({ key: bytes(k), value: bytes(k) })));
        await log.produce(t, [{ key: bytes("node-0"), value: bytes("forced"), partition: 3 }]);
        for (let p = 0; p < 4; p++) {
          const records = await readAll(log, t, p);
          for (const r of records) {
            if (text(r.value) === "forced") assert.equal(p, 3);
            else assert.equal(partitionForKey(r.key!, 4), p, `key ${text(r.key)} in partition ${p}`);
          }
        }
        const counts = (await log.offsets(t)).map((o) => o.highWatermark);
        assert.equal(counts.reduce((a, b) => a + b, 0), 41);
        assert.ok(counts.filter((c) => c > 0).length >= 3, `keys spread over partitions: ${counts}`);
      });

      it("rejects a record over the size limit, naming its size", async () => {
        const small = await open({ maxRecordBytes: 1000 });
        try {
          const t = topic("big");
          await small.createTopic(t, { partitions: 1, compacted: false });
          await rejectsWith(small.produce(t, [{ key: null, value: new Uint8Array(1001) }]), "RecordTooLarge", "1001 bytes");
          assert.deepEqual(await small.produce(t, [{ key: null, value: new Uint8Array(900) }]), [{ partition: 0, baseOffset: 0, count: 1 }]);
        } finally {
          await small.close();
        }
      });

      it("stores values larger than a broker message (3 MB) intact", async () => {
        const t = topic("large");
        await log.createTopic(t, { partitions: 1, compacted: false });
        const value = new Uint8Array(3 * 1024 * 1024);
        for (let i = 0; i < value.length; i++) value[i] = (i * 31 + 7) & 0xff;
        await log.produce(t, [{ key: bytes("ckpt"), value: bytes("before") }, { key: bytes("ckpt"), value }, { key: bytes("ckpt"), value: bytes("after") }]);
        const records = await readAll(log, t);
        assert.deepEqual(records.map((r) => r.value!.length), [6, value.length, 5]);
        assert.ok(Buffer.from(records[1]!.value!).equals(Buffer.from(value)));
        assert.deepEqual(records[1]!.headers, {});
      });
    });

    describe("waiting for data", () => {
      it("wakes a waiting read when a record arrives, without waiting out the timeout", async () => {
        const t = topic("wait");
        await log.createTopic(t, { partitions: 1, compacted: false });
        const started = Date.now();
        const pending = log.read(t, 0, 0, { waitMs: 10_000 });
        setTimeout(() => void log.produce(t, [{ key: null, value: bytes("late"), partition: 0 }]), 300);
        const result = await pending;
        const elapsed = Date.now() - started;
        assert.deepEqual(result.records.map((r) => text(r.value)), ["late"]);
        assert.ok(elapsed >= 250 && elapsed < 5_000, `woke after ${elapsed} ms`);
      });

      it("returns empty after the wait when nothing arrives", async () => {
        const t = topic("nowait");
        await log.createTopic(t, { partitions: 1, compacted: false });
        const started = Date.now();
        const result = await log.read(t, 0, 0, { waitMs: 400 });
        assert.equal(result.records.length, 0);
        assert.ok(Date.now() - started >= 350);
      });
    });

    describe("columnar reads", () => {
      it("return the same offsets, timestamps, keys, values, null keys and tombstones as read", async () => {
        const t = topic("cols");
        await log.createTopic(t, { partitions: 1, compacted: false });
        await log.produce(t, [
          { key: bytes("a"), value: bytes("one"), headers: { h1: bytes("x") }, timestamp: 1_700_000_000_000 },
          { key: bytes("b"), value: null },
          { key: null, value: bytes("no key"), partition: 0 },
          { key: bytes(""), value: new Uint8Array(0) },
          { key: null, value: null, partition: 0 },
        ]);
        await log.produce(t, [{ key: bytes("c"), value: bytes("two") }]);
        const { columns, nextOffset, highWatermark } = await sameAsRead(log, t, 0, 0);
        assert.equal(columns.count, 6);
        assert.equal(nextOffset, 6);
        assert.equal(highWatermark, 6);
        assert.deepEqual(Array.from(columns.offsets), [0, 1, 2, 3, 4, 5]);
        assert.equal(columns.timestamps[0], 1_700_000_000_000);
        assert.deepEqual(Array.from(columns.keyLength), [1, 1, -1, 0, -1, 1]);
        assert.deepEqual(Array.from(columns.valueLength), [3, -1, 6, 0, -1, 3]);
        assert.deepEqual(Array.from({ length: 6 }, (_, i) => text(columnKey(columns, i))), ["a", "b", null, "", null, "c"]);
        assert.deepEqual(Array.from({ length: 6 }, (_, i) => text(columnValue(columns, i))), ["one", null, "no key", "", null, "two"]);
        for (let offset = 1; offset <= 6; offset++) await sameAsRead(log, t, 0, offset);
        const end = await sameAsRead(log, t, 0, 6);
        assert.equal(end.columns.count, 0);
      });

      it("page like read under maxRecords and maxBytes, across batches", async () => {
        const t = topic("colpages");
        await log.createTopic(t, { partitions: 1, compacted: false });
        for (let b = 0; b < 5; b++) {
          await log.produce(t, Array.from({ length: 20 }, (_, i) => ({ key: bytes(`k${b * 20 + i}`), value: bytes(`v${b * 20 + i}`.repeat(1 + (i % 3))), partition: 0 })));
        }
        const middle = await sameAsRead(log, t, 0, 37, { maxRecords: 10 });
        assert.deepEqual(Array.from(middle.columns.offsets), Array.from({ length: 10 }, (_, i) => 37 + i));
        assert.equal(middle.nextOffset, 47);
        for (const options of [{ maxRecords: 1 }, { maxRecords: 25 }, { maxRecords: 40 }, { maxBytes: 1 }, { maxBytes: 50 }, { maxBytes: 300 }, { maxRecords: 15, maxBytes: 100 }, { maxRecords: 1_000, maxBytes: 1 << 30 }]) {
          for (const offset of [0, 5, 19, 20, 21, 63, 99]) await sameAsRead(log, t, 0, offset, options);
        }
        const all = await readAll(log, t);
        for (const options of [undefined, { maxRecords: 7 }, { maxBytes: 40 }]) {
          assert.deepEqual(
            (await readAllColumns(log, t, 0, options)).map((r) => [r.offset, r.key, r.value]),
            all.map((r) => [r.offset, hex(r.key), hex(r.value)]),
          );
        }
      });

      it("skip compaction gaps as read does", async () => {
        const t = topic("colcompact");
        await log.createTopic(t, { partitions: 1, compacted: true, deleteRetentionMs: 0 });
        for (let b = 0; b < 4; b++) {
          await log.produce(t, Array.from({ length: 10 }, (_, i) => ({ key: bytes(`k${(b * 10 + i) % 7}`), value: i === 9 && b === 1 ? null : bytes(`v${b * 10 + i}`) })));
        }
        await log.produce(t, [{ key: bytes("k0"), value: bytes("last") }]);
        await log.compact(t);
        const kept = (await readAll(log, t)).filter((r) => text(r.key) !== "__carls.compact");
        assert.ok(kept.length < 41, `compaction removed records (${kept.length} of 41 left)`);
        const { highWatermark } = (await log.offsets(t))[0]!;
        for (let offset = 0; offset <= highWatermark; offset++) {
          await sameAsRead(log, t, 0, offset);
          await sameAsRead(log, t, 0, offset, { maxRecords: 2 });
        }
        assert.deepEqual(
          (await readAllColumns(log, t, 0, { maxRecords: 3 })).map((r) => r.offset),
          (await readAll(log, t)).map((r) => r.offset),
        );
      });

      it("wait for data like read", async () => {
        const t = topic("colwait");
        await log.createTopic(t, { partitions: 1, compacted: false });
        const started = Date.now();
        const pending = log.readColumns(t, 0, 0, { waitMs: 10_000 });
        setTimeout(() => void log.produce(t, [{ key: bytes("k"), value: bytes("late"), partition: 0 }]), 300);
        const { columns, nextOffset } = await pending;
        const elapsed = Date.now() - started;
        assert.deepEqual(columnRecords(columns).map((r) => [r.offset, text(Buffer.from(r.value!, "hex"))]), [[0, "late"]]);
        assert.equal(nextOffset, 1);
        assert.ok(elapsed >= 250 && elapsed < 5_000, `woke after ${elapsed} ms`);

        const quiet = Date.now();
        const empty = await log.readColumns(t, 0, 1, { waitMs: 400 });
        assert.equal(empty.columns.count, 0);
        assert.equal(empty.nextOffset, 1);
        assert.equal(empty.highWatermark, 1);
        assert.ok(Date.now() - quiet >= 350);
      });

      it("reject what read rejects, with the same errors", async () => {
        const t = topic("colerrors");
        await log.createTopic(t, { partitions: 2, compacted: false });
        await log.produce(t, [{ key: null, value: bytes("v"), partition: 0 }]);
        const missing = topic("colmissing");
        const cases: [name: string, partition: number, offset: number, code: LogErrorCode, mentions: string][] = [
          [missing, 0, 0, "UnknownTopic", missing],
          [t, 7, 0, "InvalidArgument", "partition 7"],
          [t, 0, -1, "InvalidOffset", "-1"],
          [t, 0, 5, "InvalidOffset", "5"],
        ];
        for (const [name, partition, offset, code, mentions] of cases) {
          await rejectsWith(log.read(name, partition, offset), code, mentions);
          await rejectsWith(log.readColumns(name, partition, offset), code, mentions);
        }
        for (const [options, mentions] of [
          [{ maxRecords: 0 }, "maxRecords"],
          [{ maxRecords: 1.5 }, "maxRecords"],
          [{ maxBytes: 0 }, "maxBytes"],
          [{ waitMs: -1 }, "waitMs"],
        ] as const) {
          await rejectsWith(log.read(t, 0, 0, options), "InvalidArgument", mentions);
          await rejectsWith(log.readColumns(t, 0, 0, options), "InvalidArgument", mentions);
        }
        await log.deleteTopic(t);
        await rejectsWith(log.readColumns(t, 0, 0), "UnknownTopic", t);
      });

      it("return values larger than a broker message (3 MB) whole, as read does", async () => {
        const t = topic("collarge");
        await log.createTopic(t, { partitions: 1, compacted: false });
        const value = new Uint8Array(3 * 1024 * 1024);
        for (let i = 0; i < value.length; i++) value[i] = (i * 31 + 7) & 0xff;
        await log.produce(t, [{ key: bytes("ckpt"), value: bytes("before") }, { key: bytes("ckpt"), value }, { key: bytes("ckpt"), value: bytes("after") }]);
        const [offsets] = await log.offsets(t);
        let offset = 0;
        const values: Uint8Array[] = [];
        while (offset < offsets!.highWatermark) {
          const result = await sameAsRead(log, t, 0, offset);
          for (let i = 0; i < result.columns.count; i++) values.push(columnValue(result.columns, i)!);
          offset = result.nextOffset;
        }
        assert.deepEqual(values.map((v) => v.byteLength), [6, value.length, 5]);
        assert.ok(Buffer.from(values[1]!).equals(Buffer.from(value)));
        assert.equal(text(values[2]!), "after");
      });
    });

    describe("consumer groups", () => {
      it("refuses consumer options it cannot honour, naming the option", async () => {
        const t = topic("groupopts");
        await log.createTopic(t, { partitions: 1, compacted: false });
        await rejectsWith(log.consumer({ group: "", topics: [t] }), "InvalidArgument", 'consumer group must be a non-empty string, got ""');
        await rejectsWith(log.consumer({ group: `${ns}-o`, topics: [] }), "InvalidArgument", "consumer topics must be a non-empty array of topic names");
        await rejectsWith(log.consumer({ group: `${ns}-o`, topics: [t], from: "middle" as "latest" }), "InvalidArgument", 'consumer option from must be "earliest" or "latest", got middle');
        await rejectsWith(log.consumer({ group: `${ns}-o`, topics: [t], sessionTimeoutMs: 0 }), "InvalidArgument", "sessionTimeoutMs must be a positive integer, got 0");
      });

      it("consumes from the start, commits, and a new member resumes from the commit", async () => {
        const t = topic("group1");
        const group = `${ns}-g1`;
        await log.createTopic(t, { partitions: 2, compacted: false });
        await log.produce(t, Array.from({ length: 10 }, (_, i) => ({ key: bytes(`k${i}`), value: bytes(`v${i}`) })));
        const first = await log.consumer({ group, topics: [t] });
        const seen = await drain(first, 10);
        assert.deepEqual([...seen].sort(), Array.from({ length: 10 }, (_, i) => `v${i}`).sort());
        await first.commit();
        await first.close();
        assert.equal((await log.committed(group, t)).reduce((sum, c) => sum + c.offset, 0), 10);

        await log.produce(t, [{ key: bytes("k0"), value: bytes("v10") }]);
        const second = await log.consumer({ group, topics: [t] });
        assert.deepEqual(await drain(second, 1), ["v10"]);
        await second.close();
      });

      it("starts at the end with from: latest", async () => {
        const t = topic("latest");
        await log.createTopic(t, { partitions: 1, compacted: false });
        await log.produce(t, [{ key: null, value: bytes("old"), partition: 0 }]);
        const consumer = await log.consumer({ group: `${ns}-latest`, topics: [t], from: "latest" });
        await awaitAssignment(consumer, 1);
        await log.produce(t, [{ key: null, value: bytes("new"), partition: 0 }]);
        assert.deepEqual(await drain(consumer, 1), ["new"]);
        await consumer.close();
      });

      it("splits partitions between two members, each record to exactly one", async () => {
        const t = topic("split");
        const group = `${ns}-split`;
        await log.createTopic(t, { partitions: 4, compacted: false });
        const a = await log.consumer({ group, topics: [t], sessionTimeoutMs: 6_000 });
        const b = await log.consumer({ group, topics: [t], sessionTimeoutMs: 6_000 });
        const deadline = Date.now() + 30_000;
        let assigned: string[][] = [];
        while (Date.now() < deadline) {
          await Promise.all([a.poll({ waitMs: 100 }), b.poll({ waitMs: 100 })]);
          assigned = [await a.assignment(), await b.assignment()].map((s) => s.map((x) => `${x.partition}`).sort());
          if (assigned[0]!.length === 2 && assigned[1]!.length === 2) break;
        }
        assert.equal(assigned[0]!.length, 2, `member a owns ${assigned[0]}`);
        assert.equal(assigned[1]!.length, 2, `member b owns ${assigned[1]}`);
        assert.deepEqual([...assigned[0]!, ...assigned[1]!].sort(), ["0", "1", "2", "3"]);

        const values = Array.from({ length: 200 }, (_, i) => `v${i}`);
        await log.produce(t, values.map((v) => ({ key: bytes(v), value: bytes(v) })));
        const got: string[][] = [[], []];
        while (got[0]!.length + got[1]!.length < 200 && Date.now() < deadline) {
          const [fromA, fromB] = await Promise.all([a.poll({ waitMs: 200 }), b.poll({ waitMs: 200 })]);
          for (const batch of fromA) got[0]!.push(...batch.records.map((r) => text(r.value)!));
          for (const batch of fromB) got[1]!.push(...batch.records.map((r) => text(r.value)!));
        }
        assert.ok(got[0]!.length > 0 && got[1]!.length > 0, `both members consumed: ${got[0]!.length} / ${got[1]!.length}`);
        assert.deepEqual([...got[0]!, ...got[1]!].sort(), [...values].sort());
        await Promise.all([a.close(), b.close()]);
      });

      it("refuses to seek or commit a partition it does not own", async () => {
        const t = topic("notowned");
        await log.createTopic(t, { partitions: 1, compacted: false });
        const consumer = await log.consumer({ group: `${ns}-notowned`, topics: [t] });
        assert.throws(() => consumer.seek({ topic: t, partition: 5, offset: 0 }), (e: unknown) => isLogError(e, "NotAssigned"));
        await consumer.close();
      });
    });

    describe("compaction", () => {
      it("keeps the latest value per key, keeps offsets, and drops old tombstones", async () => {
        const t = topic("compact");
        await log.createTopic(t, { partitions: 1, compacted: true, deleteRetentionMs: 0 });
        await log.produce(t, [
          { key: bytes("a"), value: bytes("a1") },
          { key: bytes("b"), value: bytes("b1") },
          { key: bytes("a"), value: bytes("a2") },
          { key: bytes("c"), value: bytes("c1") },
          { key: bytes("b"), value: null },
          { key: bytes("a"), value: bytes("a3") },
        ]);
        await rejectsWith(log.produce(t, [{ key: null, value: bytes("x") }]), "InvalidArgument", "key");
        await log.compact(t);
        const records = (await readAll(log, t)).filter((r) => text(r.key) !== "__carls.compact");
        const latest = new Map(records.map((r) => [text(r.key), text(r.value)]));
        assert.equal(latest.get("a"), "a3");
        assert.equal(latest.get("c"), "c1");
        assert.ok(!latest.has("b") || latest.get("b") === null, "tombstoned key b is gone or still a tombstone");
        assert.deepEqual(records.filter((r) => text(r.key) === "a").map((r) => r.offset), [5], "only the last a remains, at its offset");
        assert.equal(records.find((r) => text(r.key) === "c")!.offset, 3);
        assert.ok(!records.some((r) => text(r.value) === "a1" || text(r.value) === "b1"));
      });

      it("keeps tombstones younger than deleteRetentionMs", async () => {
        const t = topic("tombs");
        await log.createTopic(t, { partitions: 1, compacted: true, deleteRetentionMs: 3_600_000 });
        await log.produce(t, [{ key: bytes("k"), value: bytes("v") }, { key: bytes("k"), value: null }]);
        await log.compact(t);
        const records = (await readAll(log, t)).filter((r) => text(r.key) === "k");
        assert.deepEqual(records.map((r) => [r.offset, r.value]), [[1, null]]);
      });

      it("refuses to compact a delete-policy topic", async () => {
        await log.createTopic(topic("notcompacted"), { partitions: 1, compacted: false });
        await rejectsWith(log.compact(topic("notcompacted")), "InvalidArgument", "not compacted");
      });
    });

    it("refuses calls after close", async () => {
      const other = await open();
      await other.close();
      await rejectsWith(other.listTopics(), "Closed");
    });
  });
}

async function awaitAssignment(consumer: { assignment(): Promise<readonly unknown[]>; poll(o: { waitMs: number }): Promise<unknown> }, count: number) {
  const deadline = Date.now() + 30_000;
  while ((await consumer.assignment()).length < count) {
    if (Date.now() > deadline) throw new Error("no partitions were assigned within 30 s");
    await consumer.poll({ waitMs: 100 });
  }
}

/** Polls until `count` records arrived (30 s at most) and returns their values. */
async function drain(consumer: { poll(o: { waitMs: number }): Promise<readonly { records: readonly LogRecord[] }[]> }, count: number): Promise<string[]> {
  const values: string[] = [];
  const deadline = Date.now() + 30_000;
  while (values.length < count && Date.now() < deadline) {
    for (const batch of await consumer.poll({ waitMs: 200 })) values.push(...batch.records.map((r) => text(r.value)!));
  }
  assert.equal(values.length, count, `received ${values.length} of ${count} records`);
  return values;
}
