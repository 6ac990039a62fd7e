/**
 * bench/log: produce and consume throughput of the streaming store, 256-byte values, batched.
 *
 *   npm run bench:log [-- --records 1000000 --batch 5000 --skip-kafka]
 *
 * Rows: the embedded backend; the Kafka backend (kafkajs) on a local broker; and kcat, a librdkafka
 * client, producing and consuming the same volume on the same broker as the reference.
 */
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openEmbeddedLog, openLog, type Log } from "../src/log/index.ts";
import { ensureKafkaBroker } from "../test/support/kafka-broker.ts";

const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "1000000" },
    batch: { type: "string", default: "5000" },
    "in-flight": { type: "string", default: "4" },
    "skip-kafka": { type: "boolean", default: false },
  },
});
const RECORDS = Number(args.records);
const BATCH = Number(args.batch);
const IN_FLIGHT = Number(args["in-flight"]);
const VALUE_BYTES = 256;
const MB = (RECORDS * VALUE_BYTES) / 1e6;

interface Row {
  readonly client: string;
  readonly produce: number;
  readonly consume: number;
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

async function benchLog(client: string, log: Log): Promise<Row> {
  const topic = `bench.log-${Date.now()}`;
  await log.createTopic(topic, { partitions: 1, compacted: false });
  const produce = await produceAll(log, topic);
  const consume = await consumeAll(log, topic);
  await log.deleteTopic(topic);
  return { client, produce: RECORDS / produce, consume: RECORDS / consume };
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
async function benchKcat(broker: string, log: Log): Promise<Row> {
  const topic = `bench.kcat-${Date.now()}`;
  await log.createTopic(topic, { partitions: 1, compacted: false });
  const dir = mkdtempSync(join(tmpdir(), "carls-bench-"));
  const file = join(dir, "values.txt");
  const line = Buffer.concat([Buffer.from(value.subarray(0, VALUE_BYTES)), Buffer.from("\n")]);
  const out = createWriteStream(file);
  const chunk = Buffer.concat(Array.from({ length: 1000 }, () => line));
  for (let i = 0; i < RECORDS / 1000; i++) if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
  await new Promise<void>((r) => out.end(r));
  const common = ["-b", broker, "-t", topic, "-q"];
  const produce = await timed(() => run("kcat", ["-P", ...common, "-p", "0", "-X", "acks=all", "-l", file]));
  const consume = await timed(() => run("kcat", ["-C", ...common, "-p", "0", "-o", "beginning", "-e", "-f", "%s"]));
  const [offsets] = await log.offsets(topic);
  if (offsets!.highWatermark !== RECORDS) throw new Error(`kcat wrote ${offsets!.highWatermark} records, expected ${RECORDS}`);
  await log.deleteTopic(topic);
  rmSync(dir, { recursive: true, force: true });
  return { client: KCAT, produce: RECORDS / produce, consume: RECORDS / consume };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
function printTable(rows: readonly Row[]): void {
  console.log(`\n${fmt(RECORDS)} records of ${VALUE_BYTES} B (${MB.toFixed(0)} MB), batches of ${BATCH}, ${IN_FLIGHT} in flight\n`);
  console.log("| client | produce rec/s | produce MB/s | consume rec/s | consume MB/s |");
  console.log("|---|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(`| ${r.client} | ${fmt(r.produce)} | ${((r.produce * VALUE_BYTES) / 1e6).toFixed(0)} | ${fmt(r.consume)} | ${((r.consume * VALUE_BYTES) / 1e6).toFixed(0)} |`);
  }
  const kcat = rows.find((r) => r.client === KCAT);
  const kafka = rows.find((r) => r.client.startsWith("kafka"));
  const embedded = rows.find((r) => r.client.startsWith("embedded (durability disk"));
  console.log("\ntargets:");
  if (embedded) {
    console.log(`  embedded produce ≥ 1,000,000 rec/s: ${fmt(embedded.produce)} ${embedded.produce >= 1e6 ? "met" : "MISSED"}`);
    console.log(`  embedded consume ≥ 3,000,000 rec/s: ${fmt(embedded.consume)} ${embedded.consume >= 3e6 ? "met" : "MISSED"}`);
  }
  if (kcat && kafka) {
    console.log(`  kafkajs produce ≥ 0.5× kcat: ${(kafka.produce / kcat.produce).toFixed(2)}× ${kafka.produce >= 0.5 * kcat.produce ? "met" : "MISSED"}`);
    console.log(`  kafkajs consume ≥ 0.5× kcat: ${(kafka.consume / kcat.consume).toFixed(2)}× ${kafka.consume >= 0.5 * kcat.consume ? "met" : "MISSED"}`);
  }
}

const rows: Row[] = [];
const dir = mkdtempSync(join(tmpdir(), "carls-bench-log-"));
for (const durability of ["disk", "process"] as const) {
  const log = await openEmbeddedLog({ dir: join(dir, durability), durability, maintenanceIntervalMs: 0 });
  rows.push(await benchLog(`embedded (durability ${durability})`, log));
  await log.close();
  console.error(`done: embedded, durability ${durability}`);
}
rmSync(dir, { recursive: true, force: true });

if (!args["skip-kafka"]) {
  const broker = await ensureKafkaBroker();
  try {
    const log = await openLog({ backend: "kafka", brokers: [broker.brokers[0]!, ...broker.brokers.slice(1)] });
    rows.push(await benchLog("kafka backend (kafkajs)", log));
    console.error("done: kafkajs");
    rows.push(await benchKcat(broker.brokers[0]!, log));
    console.error("done: kcat");
    await log.close();
  } finally {
    await broker.stop();
  }
}
printTable(rows);
