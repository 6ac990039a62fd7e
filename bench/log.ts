/**
 * bench/log: produce and consume throughput of the streaming store, 256-byte values, batched.
 *
 *   npm run bench:log [-- --records 1000000 --batch 5000 --skip-kafka --bank-records 1000000]
 *
 * Rows: the embedded backend, beside two ceilings measured on the same disk in the same run (raw
 * LMDB puts and reads of the same pre-encoded batches; a plain file appended and fdatasync'd per
 * batch, then read back); the Kafka backend on a local broker, beside kcat (librdkafka) producing
 * and consuming the same volume on the same broker. Every row is one warm-up pass, then the median
 * of `--runs` measured passes.
 */
import { spawn } from "node:child_process";
import { closeSync, createWriteStream, fdatasyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { open as openLmdb } from "lmdb";
import { encodeBatch } from "../src/log/embedded/batch-codec.ts";
import { openEmbeddedLog, openLog, partitionForKey, type Log, type ProduceRecord, type ReadOptions } from "../src/log/index.ts";
import { ensureKafkaBroker } from "../test/support/kafka-broker.ts";
import { median } from "./median.ts";

const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "1000000" },
    batch: { type: "string", default: "5000" },
    "in-flight": { type: "string", default: "4" },
    runs: { type: "string", default: "3" },
    "skip-kafka": { type: "boolean", default: false },
    "bank-records": { type: "string", default: "1000000" },
  },
});
const RECORDS = Number(args.records);
const BATCH = Number(args.batch);
const IN_FLIGHT = Number(args["in-flight"]);
const RUNS = Number(args.runs);
const VALUE_BYTES = 256;
const MB = (RECORDS * VALUE_BYTES) / 1e6;

interface Row {
  readonly client: string;
  readonly produce: number;
  readonly consume: number;
  /** `readColumns` consume rate, where the client has one. */
  readonly consumeColumns?: number;
}

interface Pass {
  readonly produce: number;
  readonly consume: number;
  readonly consumeColumns?: number;
}

const value = new Uint8Array(VALUE_BYTES);
for (let i = 0; i < VALUE_BYTES; i++) value[i] = 97 + (i % 26);

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

/** Produces RECORDS keyless records to partition 0 in batches, with IN_FLIGHT batches outstanding. */
async function produceAll(log: Log, topic: string): Promise<number> {
  const batch = Array.from({ length: BATCH }, () => ({ key: null, value, partition: 0 }));
  return timed(async () => {
    let sent = 0;
    const inFlight = new Set<Promise<void>>();
    while (sent < RECORDS) {
      const count = Math.min(BATCH, RECORDS - sent);
      const pending: Promise<void> = log.produce(topic, count === BATCH ? batch : batch.slice(0, count)).then(() => {
        inFlight.delete(pending);
      });
      inFlight.add(pending);
      sent += count;
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  });
}

/** Reads partition 0 from the start to the end, touching every value. */
async function consumeAll(log: Log, topic: string): Promise<number> {
  return timed(async () => {
    let offset = 0;
    let bytes = 0;
    let count = 0;
    while (count < RECORDS) {
      const result = await log.read(topic, 0, offset, { waitMs: 1_000 });
      for (const r of result.records) bytes += r.value!.byteLength;
      count += result.records.length;
      offset = result.nextOffset;
    }
    if (bytes !== RECORDS * VALUE_BYTES) throw new Error(`consumed ${bytes} bytes, expected ${RECORDS * VALUE_BYTES}`);
  });
}

/** The same read with `readColumns`, touching every value length. */
async function consumeAllColumns(log: Log, topic: string): Promise<number> {
  return timed(async () => {
    let offset = 0;
    let bytes = 0;
    let count = 0;
    while (count < RECORDS) {
      const { columns, nextOffset } = await log.readColumns(topic, 0, offset, { waitMs: 1_000 });
      const lengths = columns.valueLength;
      for (let i = 0; i < columns.count; i++) bytes += lengths[i]!;
      count += columns.count;
      offset = nextOffset;
    }
    if (bytes !== RECORDS * VALUE_BYTES) throw new Error(`consumed ${bytes} bytes in columns, expected ${RECORDS * VALUE_BYTES}`);
  });
}

/** One warm-up pass, then the median produce and consume rates of RUNS passes. */
async function measured(client: string, pass: () => Promise<Pass>): Promise<Row> {
  await pass();
  const passes: Pass[] = [];
  for (let i = 0; i < RUNS; i++) passes.push(await pass());
  const columns = passes.flatMap((p) => (p.consumeColumns === undefined ? [] : [p.consumeColumns]));
  const row = {
    client,
    produce: median(passes.map((p) => p.produce)),
    consume: median(passes.map((p) => p.consume)),
    ...(columns.length > 0 ? { consumeColumns: median(columns) } : {}),
  };
  console.error(`done: ${client}`);
  return row;
}

async function logPass(log: Log): Promise<Pass> {
  const topic = `bench.log-${Date.now()}`;
  await log.createTopic(topic, { partitions: 1, compacted: false });
  const produce = await produceAll(log, topic);
  const consume = await consumeAll(log, topic);
  const consumeColumns = await consumeAllColumns(log, topic);
  await log.deleteTopic(topic);
  return { produce: RECORDS / produce, consume: RECORDS / consume, consumeColumns: RECORDS / consumeColumns };
}

const BANK_RECORDS = Number(args["bank-records"]);
const BANK_PARTITIONS = 4;
const BANK_VALUE_BYTES = 24 + 64 * 4;

interface BankRead {
  readonly options: string;
  readonly ms: number;
  readonly minMs: number;
}

/** Full bank reads are quick, so take more of them than RUNS: a shared machine makes single runs noisy. */
const BANK_RUNS = Math.max(RUNS, 7);

/**
 * A bank-shaped restore read: BANK_RECORDS keyed records (`n0000000`...) in a compacted topic of
 * BANK_PARTITIONS partitions, produced 512 KiB at a time as the bank writer does, then every
 * partition read from its start with `readColumns`: with default limits, and as one read per
 * partition. Median (and fastest) of BANK_RUNS full reads after a warm-up.
 */
async function bankRestoreReads(log: Log): Promise<BankRead[]> {
  const topic = `bench.bank-${Date.now()}`;
  await log.createTopic(topic, { partitions: BANK_PARTITIONS, compacted: true });
  const value = new Uint8Array(BANK_VALUE_BYTES);
  for (let i = 0; i < value.length; i++) value[i] = i & 0xff;
  const perProduce = Math.floor((512 * 1024) / (8 + BANK_VALUE_BYTES));
  for (let start = 0; start < BANK_RECORDS; start += perProduce) {
    const records: ProduceRecord[] = [];
    for (let i = start; i < Math.min(BANK_RECORDS, start + perProduce); i++) {
      const key = Buffer.from(`n${String(i).padStart(7, "0")}`);
      records.push({ key, value, partition: partitionForKey(key, BANK_PARTITIONS) });
    }
    await log.produce(topic, records);
  }
  const ends = (await log.offsets(topic)).map((o) => o.highWatermark);
  const readAll = async (options: ReadOptions): Promise<number> => {
    let count = 0;
    const ms = await timed(async () => {
      for (let p = 0; p < BANK_PARTITIONS; p++) {
        for (let offset = 0; offset < ends[p]!; ) {
          const { columns, nextOffset } = await log.readColumns(topic, p, offset, options);
          count += columns.count;
          offset = nextOffset;
        }
      }
    });
    if (count !== BANK_RECORDS) throw new Error(`bank read ${count} records, expected ${BANK_RECORDS}`);
    return ms * 1000;
  };
  const results: BankRead[] = [];
  for (const [name, options] of [
    ["default limits (10,000 records / 16 MiB a read)", {}],
    ["one read per partition (maxRecords and maxBytes unbounded)", { maxRecords: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER }],
  ] as const) {
    await readAll(options);
    const times: number[] = [];
    for (let i = 0; i < BANK_RUNS; i++) times.push(await readAll(options));
    results.push({ options: name, ms: median(times), minMs: Math.min(...times) });
  }
  await log.deleteTopic(topic);
  console.error("done: bank-shaped restore read");
  return results;
}

const encodedBatch = () => encodeBatch(Array.from({ length: BATCH }, () => ({ key: null, value })), Date.now()).bytes;

/** Ceiling: raw LMDB puts of pre-encoded batches (same durability as `disk`), then a range read of them. */
async function rawLmdbPass(dir: string): Promise<Pass> {
  rmSync(dir, { recursive: true, force: true });
  const db = openLmdb({ path: join(dir, "raw.mdb"), compression: false, encoding: "binary" });
  const bytes = Buffer.from(encodedBatch());
  const batches = RECORDS / BATCH;
  const produce = await timed(async () => {
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < batches; i++) {
      inFlight.push(db.transaction(() => db.putSync(i, bytes)));
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    await Promise.all(inFlight);
    await db.flushed;
  });
  const consume = await timed(async () => {
    let total = 0;
    for (const { value: v } of db.getRange({ start: 0, end: batches })) total += v.length;
    if (total !== bytes.length * batches) throw new Error("raw LMDB read back the wrong size");
  });
  await db.close();
  return { produce: RECORDS / produce, consume: RECORDS / consume };
}

/** Ceiling: the same encoded bytes appended to a plain file with fdatasync per batch, then read back. */
async function rawFilePass(dir: string): Promise<Pass> {
  rmSync(dir, { recursive: true, force: true });
  const file = join(mkdtempSync(join(tmpdir(), "carls-bench-file-")), "append.log");
  const bytes = encodedBatch();
  const batches = RECORDS / BATCH;
  const produce = await timed(async () => {
    const fd = openSync(file, "a");
    for (let i = 0; i < batches; i++) {
      writeSync(fd, bytes);
      fdatasyncSync(fd);
    }
    closeSync(fd);
  });
  const consume = await timed(async () => {
    const fd = openSync(file, "r");
    const buffer = Buffer.allocUnsafe(bytes.length);
    let total = 0;
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) total += read;
    closeSync(fd);
    if (total !== bytes.length * batches) throw new Error("raw file read back the wrong size");
  });
  rmSync(file, { force: true });
  return { produce: RECORDS / produce, consume: RECORDS / consume };
}

function run(command: string, argv: string[], stdinFile?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: [stdinFile ? "pipe" : "ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited ${code}: ${stderr.slice(-500)}`))));
  });
}

const KCAT = "kcat (librdkafka), reference";

/** kcat producing the same records from a file (one 256-byte value per line) and consuming them. */
async function kcatPass(broker: string, log: Log, file: string): Promise<Pass> {
  const topic = `bench.kcat-${Date.now()}`;
  await log.createTopic(topic, { partitions: 1, compacted: false });
  const common = ["-b", broker, "-t", topic, "-q"];
  const produce = await timed(() => run("kcat", ["-P", ...common, "-p", "0", "-X", "acks=all", "-l", file]));
  const consume = await timed(() => run("kcat", ["-C", ...common, "-p", "0", "-o", "beginning", "-e", "-f", "%s"]));
  const [offsets] = await log.offsets(topic);
  if (offsets!.highWatermark !== RECORDS) throw new Error(`kcat wrote ${offsets!.highWatermark} records, expected ${RECORDS}`);
  await log.deleteTopic(topic);
  return { produce: RECORDS / produce, consume: RECORDS / consume };
}

async function writeValuesFile(dir: string): Promise<string> {
  const file = join(dir, "values.txt");
  const line = Buffer.concat([Buffer.from(value), Buffer.from("\n")]);
  const out = createWriteStream(file);
  const chunk = Buffer.concat(Array.from({ length: 1000 }, () => line));
  for (let i = 0; i < RECORDS / 1000; i++) if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
  await new Promise<void>((r) => out.end(r));
  return file;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
function printTable(rows: readonly Row[], bank: readonly BankRead[]): void {
  console.log(`\n${fmt(RECORDS)} records of ${VALUE_BYTES} B (${MB.toFixed(0)} MB), batches of ${BATCH}, ${IN_FLIGHT} in flight; median of ${RUNS} runs after a warm-up\n`);
  console.log("| client | produce rec/s | produce MB/s | consume rec/s | consume MB/s | consume (columns) rec/s | consume (columns) MB/s |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  const mbs = (rate: number) => ((rate * VALUE_BYTES) / 1e6).toFixed(0);
  for (const r of rows) {
    const columns = r.consumeColumns === undefined ? "– | –" : `${fmt(r.consumeColumns)} | ${mbs(r.consumeColumns)}`;
    console.log(`| ${r.client} | ${fmt(r.produce)} | ${mbs(r.produce)} | ${fmt(r.consume)} | ${mbs(r.consume)} | ${columns} |`);
  }
  const kcat = rows.find((r) => r.client === KCAT);
  const kafka = rows.find((r) => r.client.startsWith("kafka"));
  const embedded = rows.find((r) => r.client.startsWith("embedded (durability disk"));
  console.log("\ntargets:");
  if (embedded) {
    console.log(`  embedded produce ≥ 1,000,000 rec/s: ${fmt(embedded.produce)} ${embedded.produce >= 1e6 ? "met" : "MISSED"}`);
    console.log(`  embedded consume ≥ 3,000,000 rec/s: ${fmt(embedded.consume)} ${embedded.consume >= 3e6 ? "met" : "MISSED"}`);
    if (embedded.consumeColumns !== undefined) console.log(`  embedded consume (columns): ${fmt(embedded.consumeColumns)} rec/s, ${(embedded.consumeColumns / embedded.consume).toFixed(2)}× read()`);
  }
  const lmdb = rows.find((r) => r.client.startsWith("raw LMDB"));
  const file = rows.find((r) => r.client.startsWith("raw file"));
  if (embedded && lmdb && file) {
    const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)}%`;
    console.log(`  embedded (disk) against the ceilings: produce ${pct(embedded.produce, lmdb.produce)} of raw LMDB, ${pct(embedded.produce, file.produce)} of raw file; consume ${pct(embedded.consume, lmdb.consume)} of raw LMDB`);
  }
  if (kcat && kafka) {
    console.log(`  kafkajs produce ≥ 0.5× kcat: ${(kafka.produce / kcat.produce).toFixed(2)}× ${kafka.produce >= 0.5 * kcat.produce ? "met" : "MISSED"}`);
    console.log(`  kafkajs consume ≥ 0.5× kcat: ${(kafka.consume / kcat.consume).toFixed(2)}× ${kafka.consume >= 0.5 * kcat.consume ? "met" : "MISSED"}`);
  }
  if (bank.length > 0) {
    console.log(`\nbank-shaped restore read, embedded (durability disk): ${fmt(BANK_RECORDS)} records of a ~8 B key and a ${BANK_VALUE_BYTES} B value, ${BANK_PARTITIONS} partitions, every partition read whole with readColumns; median (fastest) of ${BANK_RUNS}`);
    for (const b of bank) console.log(`  ${b.options}: ${b.ms.toFixed(0)} ms (${b.minMs.toFixed(0)} ms), ${fmt(BANK_RECORDS / (b.ms / 1000))} rec/s`);
  }
}

const rows: Row[] = [];
let bank: BankRead[] = [];
const dir = mkdtempSync(join(tmpdir(), "carls-bench-log-"));
for (const durability of ["disk", "process"] as const) {
  const log = await openEmbeddedLog({ dir: join(dir, durability), durability, maintenanceIntervalMs: 0 });
  rows.push(await measured(`embedded (durability ${durability})`, () => logPass(log)));
  if (durability === "disk" && BANK_RECORDS > 0) bank = await bankRestoreReads(log);
  await log.close();
}
rows.push(await measured("raw LMDB, pre-encoded batches (ceiling)", () => rawLmdbPass(join(dir, "raw-lmdb"))));
rows.push(await measured("raw file append + fdatasync (ceiling)", () => rawFilePass(join(dir, "raw-file"))));

if (!args["skip-kafka"]) {
  const broker = await ensureKafkaBroker();
  try {
    const log = await openLog({ backend: "kafka", brokers: [broker.brokers[0]!, ...broker.brokers.slice(1)] });
    rows.push(await measured("kafka backend (kafkajs)", () => logPass(log)));
    const file = await writeValuesFile(dir);
    rows.push(await measured(KCAT, () => kcatPass(broker.brokers[0]!, log, file)));
    await log.close();
  } finally {
    await broker.stop();
  }
}
rmSync(dir, { recursive: true, force: true });
printTable(rows, bank);
