/**
 * Smoke test of the Kafka backend against a real broker (see test/support/kafka-broker.ts): the
 * Kafka-specific behaviour that the shared conformance suite does not reach.
 */
import assert from "node:assert/strict";
import { CompressionTypes, Kafka, logLevel } from "kafkajs";
import { after, before, describe, it } from "node:test";
import { isLogError, type LogErrorCode } from "../src/log/errors.ts";
import { COMPACTION_MARKER_KEY, openKafkaLog } from "../src/log/kafka/index.ts";
import { partitionForKey } from "../src/log/partitioner.ts";
import { columnKey, columnValue } from "../src/log/columns.ts";
import { ColumnsSink } from "../src/log/kafka/columns-sink.ts";
import { CorruptRecordBatch, RecordCursor, decodeRecordBatches, encodeRecordBatch, type DecodedBatch } from "../src/log/kafka/record-batch.ts";
import type { GroupConsumer, Log, LogRecord, PolledBatch, RecordColumns } from "../src/log/types.ts";
import { ensureKafkaBroker, type KafkaBroker } from "./support/kafka-broker.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));
const run = Date.now().toString(36);
let topicCount = 0;
const topicName = (what: string): string => `kafkab.${run}.${what}.${topicCount++}`;

async function rejectsWith(promise: Promise<unknown>, code: LogErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isLogError(error, code), `expected LogError ${code}, got ${String(error)}`);
    if (message) assert.match((error as Error).message, message);
    return true;
  });
}

/** Every record of a partition, from the start to the high watermark. */
async function readAll(log: Log, topic: string, partition: number): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  let offset = 0;
  for (;;) {
    const result = await log.read(topic, partition, offset);
    records.push(...result.records);
    if (result.nextOffset >= result.highWatermark) return records;
    offset = result.nextOffset;
  }
}

/** Polls until `count` records have arrived or the time is up. */
async function pollRecords(consumer: GroupConsumer, count: number, timeoutMs = 15_000): Promise<PolledBatch[]> {
  const batches: PolledBatch[] = [];
  const deadline = Date.now() + timeoutMs;
  let received = 0;
  while (received < count && Date.now() < deadline) {
    for (const batch of await consumer.poll({ waitMs: 200 })) {
      batches.push(batch);
      received += batch.records.length;
    }
  }
  return batches;
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("columns of a Kafka read", () => {
  const outgoing = (key: string | null, value: string | null) => ({ key: key === null ? null : enc(key), value: value === null ? null : enc(value), headers: undefined, timestamp: 1000 });
  const batchOf = (...records: ReturnType<typeof outgoing>[]) => [...decodeRecordBatches(encodeRecordBatch(records))][0]!;
  const contents = (columns: RecordColumns) => Array.from({ length: columns.count }, (_, i) => [columns.offsets[i], dec(columnKey(columns, i)), dec(columnValue(columns, i))]);
  const takeAll = (sink: ColumnsSink, batch: DecodedBatch) => {
    const cursor = new RecordCursor();
    cursor.reset(batch);
    while (cursor.next()) sink.take(cursor);
  };

  it("point into the one buffer the records came in, and turn into a copy on another buffer or a record put together", () => {
    const long = "v".repeat(400);
    const first = batchOf(outgoing("a", "1"), outgoing(null, "22"), outgoing("c", null), outgoing("", ""), outgoing("d", long));
    const expected = [[0, "a", "1"], [1, null, "22"], [2, "c", null], [3, "", ""], [4, "d", long]];
    const inPlace = new ColumnsSink();
    takeAll(inPlace, first);
    const columns = inPlace.result();
    assert.deepEqual([columns.valueData.buffer, columns.valueData.byteOffset, columns.valueData.byteLength], [first.buf.buffer, first.buf.byteOffset, first.buf.byteLength], "nothing copied");
    assert.ok(columns.keyStart[0]! >= 61, "the first key lies past the batch header");
    assert.deepEqual(contents(columns), expected);

    const mixed = new ColumnsSink();
    takeAll(mixed, first);
    takeAll(mixed, batchOf(outgoing("e", "5")));
    mixed.takeRecord({ offset: 9, timestamp: 1, key: enc("f"), value: enc("joined"), headers: {} });
    const copied = mixed.result();
    assert.equal(copied.valueData.byteLength, 415, "a copy of the keys' and values' bytes");
    assert.deepEqual(contents(copied), [...expected, [0, "e", "5"], [9, "f", "joined"]]);

    // Taking a small part of a large buffer copies it, rather than keeping the whole buffer alive.
    const small = new ColumnsSink();
    const cursor = new RecordCursor();
    cursor.reset(first);
    cursor.next();
    small.take(cursor);
    assert.equal(small.result().valueData.byteLength, 2);
  });

  it("reads keys and values of every length across the varint boundaries, and knows a key by its bytes", () => {
    const lengths = [0, 1, 63, 64, 65, 127, 128, 8191, 8192, 8193, 70_000];
    const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
    const records = lengths.map((n, i) => ({ key: i % 3 === 2 ? null : bytes(n, i), value: i % 4 === 3 ? null : bytes(lengths.at(-1 - i)!, 100 + i), headers: i === 4 ? { h: bytes(3, 1) } : undefined, timestamp: 5000 + i }));
    const [batch] = [...decodeRecordBatches(encodeRecordBatch(records))];
    const cursor = new RecordCursor();
    cursor.reset(batch!);
    for (const [i, expected] of records.entries()) {
      assert.ok(cursor.next(), `record ${i}`);
      const got = cursor.record();
      assert.deepEqual([got.offset, got.timestamp, got.key, got.value, cursor.payloadBytes()], [i, 5000 + i, expected.key, expected.value, (expected.key?.length ?? 0) + (expected.value?.length ?? 0)], `record ${i}`);
      assert.deepEqual(got.headers, expected.headers ?? {});
      if (expected.key !== null && expected.key.length > 0) {
        assert.ok(cursor.keyEquals(expected.key));
        assert.ok(!cursor.keyEquals(expected.key.subarray(1)) && !cursor.keyEquals(Uint8Array.of(...expected.key, 0)));
        assert.ok(!cursor.keyEquals(Uint8Array.from(expected.key, (b, j) => (j === expected.key!.length - 1 ? b ^ 1 : b))));
      } else assert.ok(!cursor.keyEquals(Uint8Array.of(1)));
    }
    assert.ok(!cursor.next());
  });
});

describe("a corrupt record batch", () => {
  const records = ["a", "bb", "ccc"].map((v, i) => ({ key: enc(`k${i}`), value: enc(v), headers: undefined, timestamp: 1000 + i }));
  const readAll = (buf: Buffer) => {
    const cursor = new RecordCursor();
    const values: (string | null)[] = [];
    for (const batch of decodeRecordBatches(buf)) {
      cursor.reset(batch);
      while (cursor.next()) values.push(dec(cursor.record().value));
    }
    return values;
  };

  it("reads as it was written when intact", () => {
    assert.deepEqual(readAll(encodeRecordBatch(records)), ["a", "bb", "ccc"]);
  });

  it("fails with CorruptRecordBatch, not garbage, when it counts more records than it holds", () => {
    const buf = encodeRecordBatch(records);
    buf.writeInt32BE(4, 57); // the record count
    assert.throws(() => readAll(buf), (error: Error) => error instanceof CorruptRecordBatch && isLogError(error, "StoreCorrupt") && /record batch at offset 0 is corrupt: it holds fewer records than the 4 it counts/.test(error.message));
  });

  it("refuses a batch in a format it does not read with an UnsupportedFormat LogError naming the batch", () => {
    const snappy = encodeRecordBatch(records);
    snappy.writeInt16BE(2, 21); // attributes: snappy compression
    assert.throws(() => readAll(snappy), (error: Error) => isLogError(error, "UnsupportedFormat") && /record batch at offset 0 is compressed with snappy; carls reads only uncompressed and gzip batches/.test(error.message));
    const old = encodeRecordBatch(records);
    old.writeInt8(1, 16); // magic: message format 1
    assert.throws(() => readAll(old), (error: Error) => isLogError(error, "UnsupportedFormat") && /has message format 1; carls reads only format 2/.test(error.message));
  });

  it("fails with CorruptRecordBatch when a record's length runs past the batch or its fields past the record", () => {
    const longer = encodeRecordBatch(records);
    longer[61] = 0x7e; // the first record's length (a one-byte zigzag varint): 63 bytes, past the batch
    assert.throws(() => readAll(longer), /record batch at offset 0 is corrupt: a record of 63 bytes does not fit in it/);
    const shorter = encodeRecordBatch(records);
    shorter[61] = 0x04; // 2 bytes: its fields run on past them
    assert.throws(() => readAll(shorter), /record batch at offset 0 is corrupt: the fields of the record at offset 0 overrun its length/);
  });
});

describe("Kafka backend against a broker", { timeout: 600_000 }, () => {
  let broker: KafkaBroker;
  let log: Log;

  before(
    async () => {
      broker = await ensureKafkaBroker();
      log = await openKafkaLog({ brokers: broker.brokers });
    },
    { timeout: 300_000 },
  );

  after(async () => {
    if (log) {
      for (const topic of await log.listTopics().catch(() => [])) {
        if (topic.startsWith(`kafkab.${run}.`)) await log.deleteTopic(topic).catch(() => {});
      }
      await log.close();
    }
    await broker?.stop();
  });

  it("fails fast with BrokerUnreachable when no broker answers", async () => {
    const started = Date.now();
    await rejectsWith(openKafkaLog({ brokers: ["127.0.0.1:1"], connectionTimeoutMs: 1500 }), "BrokerUnreachable", /127\.0\.0\.1:1.*1500 ms/);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  it("rejects bad options, naming the field", async () => {
    await rejectsWith(openKafkaLog({ brokers: [] }), "InvalidArgument", /brokers/);
    await rejectsWith(openKafkaLog({ brokers: ["no-port"] }), "InvalidArgument", /brokers/);
    await rejectsWith(openKafkaLog({ brokers: ["a:1"], connectionTimeoutMs: -1 }), "InvalidArgument", /connectionTimeoutMs/);
    await rejectsWith(
      openKafkaLog({ brokers: ["a:1"], sasl: { mechanism: "gssapi" as "plain", username: "u", password: "p" } }),
      "InvalidArgument",
      /sasl/,
    );
  });

  it("creates, describes, lists and deletes topics, and reports conflicts", async () => {
    const topic = topicName("admin");
    await log.createTopic(topic, { partitions: 3, compacted: false, retentionMs: 3_600_000 });
    const described = await log.describeTopic(topic);
    assert.deepEqual(described.config, { partitions: 3, compacted: false, retentionMs: 3_600_000, deleteRetentionMs: 86_400_000 });
    assert.deepEqual(
      described.partitions.map((p) => [p.partition, p.logStartOffset, p.highWatermark]),
      [
        [0, 0, 0],
        [1, 0, 0],
        [2, 0, 0],
      ],
    );
    await log.createTopic(topic, { partitions: 3, compacted: false });
    await rejectsWith(log.createTopic(topic, { partitions: 2, compacted: true }), "TopicConfigConflict", /partitions 3.*compacted false/);
    assert.ok((await log.listTopics()).includes(topic));
    assert.ok(!(await log.listTopics()).some((t) => t.startsWith("__")));

    await rejectsWith(log.createTopic("bad/name", { partitions: 1, compacted: false }), "InvalidTopicName");
    await rejectsWith(log.createTopic(topicName("x"), { partitions: 0, compacted: false }), "InvalidArgument");

    await log.deleteTopic(topic);
    assert.ok(!(await log.listTopics()).includes(topic));
    const missing = topicName("missing");
    const unknown = new RegExp(missing.replaceAll(".", "\\."));
    await rejectsWith(log.deleteTopic(missing), "UnknownTopic", unknown);
    await rejectsWith(log.describeTopic(missing), "UnknownTopic", unknown);
    await rejectsWith(log.produce(missing, [{ key: null, value: enc("v") }]), "UnknownTopic", unknown);
    await rejectsWith(log.read(missing, 0, 0), "UnknownTopic", unknown);
    await rejectsWith(log.offsets(missing), "UnknownTopic", unknown);
    await rejectsWith(log.committed("g", missing), "UnknownTopic", unknown);
    await rejectsWith(log.consumer({ group: "g", topics: [missing] }), "UnknownTopic", unknown);
  });

  it("reads columns in place: the keys and values of one fetch response are not copied", async () => {
    const topic = topicName("inplace");
    await log.createTopic(topic, { partitions: 1, compacted: false });
    // One record with headers among them: not a chunk, so still in place.
    await log.produce(topic, Array.from({ length: 50 }, (_, i) => ({ key: enc(`k${i}`), value: enc(`value ${i}`), partition: 0, ...(i === 7 ? { headers: { trace: enc("t") } } : {}) })));
    const { columns } = await log.readColumns(topic, 0, 0);
    assert.equal(columns.count, 50);
    assert.deepEqual([columnKey(columns, 7), columnValue(columns, 7)].map((b) => dec(b)), ["k7", "value 7"]);
    assert.deepEqual([columnKey(columns, 49), columnValue(columns, 49)].map((b) => dec(b)), ["k49", "value 49"]);
    // A copy would start at 0; in place, the first key lies past the batch's header.
    assert.ok(columns.keyStart[0]! > 61, `first key at ${columns.keyStart[0]}`);
    assert.equal(columns.keyData.buffer, columns.valueData.buffer);
  });

  it("reads another client's gzip batches and a LogAppendTime topic alike through read and readColumns", async () => {
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      const topic = topicName("foreign");
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: "message.timestamp.type", value: "LogAppendTime" }] }], waitForLeaders: true });
      await log.produce(topic, [{ key: enc("plain"), value: enc("ours"), partition: 0 }]);
      await producer.send({ topic, compression: CompressionTypes.GZIP, messages: [{ key: "g1", value: "zipped", partition: 0 }, { key: null, value: "", partition: 0 }, { key: COMPACTION_MARKER_KEY, value: null, partition: 0 }] });
      await producer.send({ topic, compression: CompressionTypes.GZIP, messages: [{ key: "g2", value: "again", headers: { h: "1" }, partition: 0 }] });
      const expected = [[0, "plain", "ours"], [1, "g1", "zipped"], [2, null, ""], [4, "g2", "again"]];
      for (const offset of [0, 1, 2, 3, 4]) {
        const read = await log.read(topic, 0, offset);
        const { columns, nextOffset } = await log.readColumns(topic, 0, offset);
        const fromRecords = read.records.map((r) => [r.offset, dec(r.key), dec(r.value)]);
        const fromColumns = Array.from({ length: columns.count }, (_, i) => [columns.offsets[i], dec(columnKey(columns, i)), dec(columnValue(columns, i))]);
        assert.deepEqual(fromRecords, expected.filter(([o]) => (o as number) >= offset), `read from ${offset}`);
        assert.deepEqual(fromColumns, fromRecords, `readColumns from ${offset}`);
        assert.deepEqual([nextOffset, Array.from(columns.timestamps)], [read.nextOffset, read.records.map((r) => r.timestamp)]);
      }
      // LogAppendTime: the broker's clock, not the producer's, for every record.
      const { records } = await log.read(topic, 0, 0);
      assert.ok(records.every((r) => Math.abs(r.timestamp - Date.now()) < 120_000), JSON.stringify(records.map((r) => r.timestamp)));
    } finally {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }
  });

  it("round-trips records, tombstones and headers, and long-polls", async () => {
    const topic = topicName("roundtrip");
    await log.createTopic(topic, { partitions: 2, compacted: false });
    const written = await log.produce(topic, [
      { key: enc("a"), value: enc("1"), headers: { trace: enc("t1"), empty: new Uint8Array(0) }, partition: 1, timestamp: 1_700_000_000_000 },
      { key: enc("a"), value: null, partition: 1 },
      { key: null, value: enc("keyless"), partition: 1 },
    ]);
    assert.deepEqual(written, [{ partition: 1, baseOffset: 0, count: 3 }]);

    const result = await log.read(topic, 1, 0);
    assert.equal(result.nextOffset, 3);
    assert.equal(result.highWatermark, 3);
    assert.equal(result.logStartOffset, 0);
    const [first, tombstone, keyless] = result.records;
    assert.deepEqual([first!.offset, dec(first!.key), dec(first!.value), first!.timestamp], [0, "a", "1", 1_700_000_000_000]);
    assert.deepEqual(Object.keys(first!.headers).sort(), ["empty", "trace"]);
    assert.equal(dec(first!.headers.trace!), "t1");
    assert.equal(first!.headers.empty!.byteLength, 0);
    assert.ok(first!.value instanceof Uint8Array && !Buffer.isBuffer(first!.value), "values are plain Uint8Arrays");
    assert.deepEqual([tombstone!.offset, dec(tombstone!.key), tombstone!.value], [1, "a", null]);
    assert.deepEqual([keyless!.key, dec(keyless!.value)], [null, "keyless"]);
    assert.ok(Math.abs(tombstone!.timestamp - Date.now()) < 60_000);

    assert.deepEqual((await log.read(topic, 1, 1, { maxRecords: 1 })).records.map((r) => r.offset), [1]);
    assert.deepEqual(await log.offsets(topic), [
      { partition: 0, logStartOffset: 0, highWatermark: 0 },
      { partition: 1, logStartOffset: 0, highWatermark: 3 },
    ]);
    await rejectsWith(log.read(topic, 1, 4), "InvalidOffset", /offset 4/);
    await rejectsWith(log.read(topic, 1, -1), "InvalidOffset");
    await rejectsWith(log.read(topic, 2, 0), "InvalidArgument");
    await rejectsWith(log.produce(topic, [{ key: null, value: enc("x"), partition: 5 }]), "InvalidArgument");
    await rejectsWith(log.produce(topic, [{ key: enc(COMPACTION_MARKER_KEY), value: null }]), "InvalidArgument", /reserved/);
    await rejectsWith(log.produce(topic, [{ key: null, value: enc("x"), headers: { "carls.chunk": enc("0/2") } }]), "InvalidArgument");

    const started = Date.now();
    const waiting = log.read(topic, 0, 0, { waitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    await log.produce(topic, [{ key: null, value: enc("late"), partition: 0 }]);
    const late = await waiting;
    assert.deepEqual(late.records.map((r) => dec(r.value)), ["late"]);
    assert.ok(Date.now() - started < 5000, "the long poll returns when data arrives");
    const idle = Date.now();
    assert.equal((await log.read(topic, 0, 1, { waitMs: 500 })).records.length, 0);
    assert.ok(Date.now() - idle >= 400, "an empty long poll waits");

    const aborted = new AbortController();
    const pending = log.read(topic, 0, 1, { waitMs: 10_000, signal: aborted.signal });
    aborted.abort();
    await assert.rejects(pending, { name: "AbortError" });
  });

  it("serves many long polls at once without holding up other requests or each other", async () => {
    const idle = topicName("followed");
    const other = topicName("busy");
    await log.createTopic(idle, { partitions: 16, compacted: false });
    await log.createTopic(other, { partitions: 1, compacted: false });
    await log.produce(other, [{ key: null, value: enc("0") }]);

    const stop = new AbortController();
    const settled = new Set<number>();
    const follow = (partition: number, read = log.read.bind(log)) => {
      const pending = read(idle, partition, 0, { waitMs: 5000, signal: stop.signal });
      pending.then(() => settled.add(partition), () => {});
      return pending;
    };
    const followers = Array.from({ length: 16 }, (_, p) => follow(p));
    // A second reader of one partition, through readColumns.
    const columns = log.readColumns(idle, 7, 0, { waitMs: 5000, signal: stop.signal });
    columns.catch(() => {});
    const reason = new Error("stopped");
    let outcomes: PromiseSettledResult<unknown>[];
    try {
      await new Promise((r) => setTimeout(r, 300)); // the long polls are at the broker

      for (let i = 1; i <= 3; i++) {
        const started = performance.now();
        await log.produce(other, [{ key: null, value: enc(String(i)) }]);
        const { records } = await log.read(other, 0, i);
        const { highWatermark } = (await log.offsets(other))[0]!;
        const ms = performance.now() - started;
        assert.deepEqual([records.map((r) => dec(r.value)), highWatermark], [[String(i)], i + 1]);
        assert.ok(ms < 500, `a produce, a read and a metadata request of another topic took ${ms.toFixed(0)} ms behind 16 long polls`);
      }
      assert.equal(settled.size, 0, "the followers of idle partitions are still waiting");

      const woken = performance.now();
      await log.produce(idle, [{ key: enc("k"), value: enc("wake"), partition: 7 }]);
      const { records } = await followers[7]!;
      const wokeMs = performance.now() - woken;
      assert.deepEqual(records.map((r) => dec(r.value)), ["wake"]);
      assert.ok(wokeMs < 300, `the follower of partition 7 woke ${wokeMs.toFixed(0)} ms after the produce`);
      const { columns: got } = await columns;
      assert.equal(got.count, 1, "the other reader of the partition got the record too");
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual([...settled], [7], "the other 15 keep waiting");

      // Deadlines hold while the others wait on.
      const started = performance.now();
      const timedOut = await log.read(idle, 3, 0, { waitMs: 700 });
      const waitedMs = performance.now() - started;
      assert.deepEqual([timedOut.records.length, timedOut.nextOffset, timedOut.highWatermark], [0, 0, 0]);
      assert.ok(waitedMs >= 690 && waitedMs < 1200, `a read waiting 700 ms returned after ${waitedMs.toFixed(0)} ms`);

      // A follower that resumes from the next offset joins the others waiting; a second record wakes it.
      const again = log.read(idle, 7, 1, { waitMs: 5000, signal: stop.signal });
      await new Promise((r) => setTimeout(r, 150));
      const producedAgain = performance.now();
      await log.produce(idle, [{ key: enc("k"), value: enc("again"), partition: 7 }]);
      assert.deepEqual((await again).records.map((r) => dec(r.value)), ["again"]);
      const againMs = performance.now() - producedAgain;
      assert.ok(againMs < 300, `the resumed follower woke ${againMs.toFixed(0)} ms after the produce`);
      assert.equal(settled.size, 1, "and the others still wait");
    } finally {
      stop.abort(reason);
      outcomes = await Promise.allSettled(followers);
    }
    for (const [p, outcome] of outcomes.entries()) {
      if (p === 7) continue;
      assert.equal(outcome.status, "rejected", `follower ${p} was cut short`);
      assert.equal((outcome as PromiseRejectedResult).reason, reason, "with the signal's reason");
    }
  });

  it("long-polls over SASL too (the waiting reads' own connections authenticate)", async (t) => {
    if (!broker.saslBrokers) return t.skip("no SASL listener (CARLS_KAFKA_SASL_BROKERS)");
    const sasl = await openKafkaLog({ brokers: broker.saslBrokers, sasl: { mechanism: "scram-sha-256", username: "carls", password: "carls-secret" } });
    try {
      const topic = topicName("sasl-poll");
      await sasl.createTopic(topic, { partitions: 2, compacted: false });
      const waiting = [0, 1].map((p) => sasl.read(topic, p, 0, { waitMs: 10_000 }));
      await new Promise((r) => setTimeout(r, 300));
      await sasl.produce(topic, [0, 1].map((p) => ({ key: null, value: enc(`p${p}`), partition: p })));
      const results = await Promise.all(waiting);
      assert.deepEqual(results.map((r) => r.records.map((x) => dec(x.value))), [["p0"], ["p1"]]);
    } finally {
      await sasl.close();
    }
  });

  it("ends long polls with Closed when the log closes", async () => {
    const topic = topicName("poll-close");
    await log.createTopic(topic, { partitions: 1, compacted: false });
    const other = await openKafkaLog({ brokers: broker.brokers });
    const pending = other.read(topic, 0, 0, { waitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    const rejected = rejectsWith(pending, "Closed");
    await other.close();
    await rejected;
    assert.ok(performance.now() - started < 2000, "at once");
  });

  it("places keys with murmur2, as partitionForKey does", async () => {
    const topic = topicName("murmur");
    await log.createTopic(topic, { partitions: 7, compacted: false });
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i * 7919}`);
    await log.produce(
      topic,
      keys.map((k) => ({ key: enc(k), value: enc(k) })),
    );
    for (let partition = 0; partition < 7; partition++) {
      for (const record of await readAll(log, topic, partition)) {
        assert.equal(partitionForKey(record.key!, 7), partition, `key ${dec(record.key)}`);
      }
    }
    const total = (await log.offsets(topic)).reduce((sum, p) => sum + p.highWatermark, 0);
    assert.equal(total, keys.length);
  });

  it("splits a 3 MB value into chunks and reassembles it on read and in consumers", async () => {
    const topic = topicName("chunks");
    await log.createTopic(topic, { partitions: 1, compacted: false });
    const big = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const [written] = await log.produce(topic, [
      { key: enc("k"), value: enc("before") },
      { key: enc("k"), value: big, headers: { kind: enc("big") } },
      { key: enc("k"), value: enc("after") },
    ]);
    // Offsets: 0 "before", 1..chunks the chunks of the big value, chunks + 1 "after".
    const chunks = written!.count - 2;
    assert.ok(chunks >= 3, `a 3 MB value in batches of at most 1 MB takes at least 3 chunks, took ${chunks}`);

    const result = await log.read(topic, 0, 0);
    assert.deepEqual(
      result.records.map((r) => [r.offset, r.value!.byteLength]),
      [
        [0, 6],
        [chunks, big.length],
        [chunks + 1, 5],
      ],
    );
    const value = result.records[1]!;
    assert.ok(Buffer.from(value.value!).equals(Buffer.from(big)));
    assert.deepEqual(Object.keys(value.headers), ["kind"]);
    assert.equal(result.nextOffset, chunks + 2);
    // Columns likewise: the reassembled value is copied in beside the others.
    const { columns, nextOffset } = await log.readColumns(topic, 0, 0);
    assert.deepEqual(Array.from(columns.offsets), [0, chunks, chunks + 1]);
    assert.deepEqual([dec(columnValue(columns, 0)), dec(columnValue(columns, 2)), nextOffset], ["before", "after", chunks + 2]);
    assert.ok(Buffer.from(columnValue(columns, 1)!).equals(Buffer.from(big)));
    const columnWindow = await log.readColumns(topic, 0, 0, { maxBytes: 100 });
    assert.deepEqual([Array.from(columnWindow.columns.offsets), columnWindow.nextOffset], [[0], 1]);

    // A window that ends inside the value stops before it; the next read gets it whole.
    const window = await log.read(topic, 0, 0, { maxBytes: 100 });
    assert.deepEqual(window.records.map((r) => r.offset), [0]);
    assert.equal(window.nextOffset, 1);
    const whole = await log.read(topic, 0, window.nextOffset, { maxBytes: 100 });
    assert.deepEqual(whole.records.map((r) => [r.offset, r.value!.byteLength]), [[chunks, big.length]]);

    const compacted = topicName("chunks-compacted");
    await log.createTopic(compacted, { partitions: 1, compacted: true });
    await rejectsWith(log.produce(compacted, [{ key: enc("k"), value: big }]), "RecordTooLarge", /compaction/);
    await rejectsWith(
      (async () => {
        const small = await openKafkaLog({ brokers: broker.brokers, maxRecordBytes: 1024 });
        try {
          await small.produce(topic, [{ key: null, value: new Uint8Array(2048) }]);
        } finally {
          await small.close();
        }
      })(),
      "RecordTooLarge",
    );

    const consumer = await log.consumer({ group: `kafkab.${run}.chunks`, topics: [topic] });
    try {
      const batches = await pollRecords(consumer, 3);
      const records = batches.flatMap((b) => b.records);
      assert.deepEqual(records.map((r) => [r.offset, r.value!.byteLength]), result.records.map((r) => [r.offset, r.value!.byteLength]));
      assert.ok(Buffer.from(records[1]!.value!).equals(Buffer.from(big)));
      await consumer.commit();
      assert.deepEqual(await log.committed(`kafkab.${run}.chunks`, topic), [{ topic, partition: 0, offset: chunks + 2 }]);
    } finally {
      await consumer.close();
    }
  });

  it("splits partitions between two members of a group and resumes from commits", async () => {
    const topic = topicName("group");
    const group = `kafkab.${run}.group`;
    await log.createTopic(topic, { partitions: 4, compacted: false });
    await log.produce(
      topic,
      Array.from({ length: 100 }, (_, i) => ({ key: null, value: enc(`v${i}`), partition: i % 4 })),
    );

    const a = await log.consumer({ group, topics: [topic] });
    const b = await log.consumer({ group, topics: [topic] });
    try {
      assert.notEqual(a.memberId, b.memberId);
      await eventually("the partitions to be split", async () => {
        const [ours, theirs] = [await a.assignment(), await b.assignment()];
        const all = [...ours, ...theirs].map((tp) => tp.partition).sort();
        return ours.length > 0 && theirs.length > 0 && all.join() === "0,1,2,3";
      });
      const owned = (await a.assignment()).map((tp) => tp.partition);
      assert.throws(() => a.seek({ topic, partition: [0, 1, 2, 3].find((p) => !owned.includes(p))!, offset: 0 }), (e) =>
        isLogError(e, "NotAssigned"),
      );

      const received = new Map<string, number[]>();
      const deadline = Date.now() + 20_000;
      while ([...received.values()].flat().length < 100 && Date.now() < deadline) {
        for (const [name, member] of [
          ["a", a],
          ["b", b],
        ] as const) {
          for (const batch of await member.poll({ waitMs: 100 })) {
            const mine = (await member.assignment()).some((tp) => tp.partition === batch.partition);
            assert.ok(mine, `${name} got records of partition ${batch.partition} it does not own`);
            received.set(name, [...(received.get(name) ?? []), ...batch.records.map(() => batch.partition)]);
          }
        }
      }
      assert.equal([...received.values()].flat().length, 100);
      assert.ok((received.get("a") ?? []).length > 0 && (received.get("b") ?? []).length > 0);

      await a.commit();
      await b.commit();
      assert.deepEqual(
        (await log.committed(group, topic)).map((c) => [c.partition, c.offset]),
        [
          [0, 25],
          [1, 25],
          [2, 25],
          [3, 25],
        ],
      );

      // a leaves: b takes over all partitions and, being up to date, sees only new records.
      await a.close();
      await rejectsWith(a.poll(), "Closed");
      await eventually("b to own every partition", async () => {
        await b.poll({ waitMs: 50 });
        return (await b.assignment()).length === 4;
      });
      await log.produce(topic, [{ key: null, value: enc("new"), partition: 2 }]);
      const fresh = (await pollRecords(b, 1)).flatMap((batch) => batch.records.map((r) => [batch.partition, r.offset, dec(r.value)]));
      assert.deepEqual(fresh, [[2, 25, "new"]]);

      // Explicit offsets and seek: rewind partition 2 and read it again.
      b.seek({ topic, partition: 2, offset: 24 });
      const again = (await pollRecords(b, 2)).flatMap((batch) => batch.records.map((r) => [batch.partition, r.offset]));
      assert.deepEqual(again, [
        [2, 24],
        [2, 25],
      ]);
      await b.commit([{ topic, partition: 2, offset: 26 }]);
    } finally {
      await a.close();
      await b.close();
    }

    // A new member of the group resumes from the committed offsets.
    await log.produce(topic, [{ key: null, value: enc("after-restart"), partition: 0 }]);
    const c = await log.consumer({ group, topics: [topic] });
    try {
      const resumed = (await pollRecords(c, 1)).flatMap((batch) => batch.records.map((r) => [batch.partition, r.offset, dec(r.value)]));
      assert.deepEqual(resumed, [[0, 25, "after-restart"]]);
    } finally {
      await c.close();
    }

    const latest = await log.consumer({ group: `kafkab.${run}.latest`, topics: [topic], from: "latest" });
    try {
      assert.equal((await pollRecords(latest, 1, 1500)).length, 0, "from: latest skips what was written before");
    } finally {
      await latest.close();
    }
  });

  it("compacts on demand, keeping the latest record per key", async () => {
    const topic = topicName("compact");
    await log.createTopic(topic, { partitions: 2, compacted: true, deleteRetentionMs: 0 });
    for (let round = 0; round < 3; round++) {
      await log.produce(
        topic,
        Array.from({ length: 20 }, (_, i) => ({ key: enc(`k${i}`), value: enc(`r${round}`) })),
      );
    }
    await log.produce(topic, [{ key: enc("k0"), value: null }]);

    const result = await log.compact(topic);
    assert.deepEqual(result, { topic, removed: 42, kept: 19 });
    const survivors = [...(await readAll(log, topic, 0)), ...(await readAll(log, topic, 1))];
    assert.deepEqual(survivors.map((r) => dec(r.key)).sort(), Array.from({ length: 19 }, (_, i) => `k${i + 1}`).sort());
    assert.ok(survivors.every((r) => dec(r.value) === "r2"));
    assert.deepEqual((await log.describeTopic(topic)).config, { partitions: 2, compacted: true, retentionMs: null, deleteRetentionMs: 0 });

    // Compacting again removes nothing and leaves the data as it was.
    assert.deepEqual(await log.compact(topic), { topic, removed: 0, kept: 19 });

    const plain = topicName("not-compacted");
    await log.createTopic(plain, { partitions: 1, compacted: false });
    await rejectsWith(log.compact(plain), "InvalidArgument", /not compacted/);
  });

  it("refuses calls after close", async () => {
    const other = await openKafkaLog({ brokers: broker.brokers });
    await other.close();
    await other.close();
    await rejectsWith(other.listTopics(), "Closed");
    await rejectsWith(other.produce("t", []), "Closed");
  });
});
