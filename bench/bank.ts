/**
 * bench/bank: a vector bank of N keys × dim float32, written with BankWriter, then restored and
 * read, every figure beside a reference measured in the same run.
 *
 *   npx tsx bench/bank.ts [--keys 1000000] [--dim 64] [--runs 3] [--kafka-keys 200000] [--dir <store>]
 *
 * Rows (each one warm-up, then the median of `--runs`):
 * - write: BankWriter.upsertVectors in chunks of 10,000 keys (each version goes to the history and
 *   to the bank topic); one pass, no reference.
 * - restore from topic: `VectorBankView.open(..., { follow: false })`, beside the raw reads it
 *   cannot beat: `readColumns` over every partition with the limits the view uses (10,000 records);
 *   and the catch-up alone, BankFollower into a VectorApplier (the columnar path) without a view.
 * - restore from snapshot: the same open with `snapshotPath` at a snapshot of the whole bank (no
 *   tail to read), beside reading the file.
 * - lookup: random batches of 1,024 keys (values and miss mask, then again with each value's step),
 *   beside a plain Float32Array gather of the same rows by precomputed row index.
 * - Kafka: when CARLS_KAFKA_BROKERS is set, write and restore `--kafka-keys` keys there, beside
 *   the raw `readColumns` of the same topic.
 *
 * `--dir` keeps the embedded store in that directory and reuses a bank already written there.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BankFollower } from "../src/bank/follower.ts";
import { BankWriter, VectorBankView, bankTopics } from "../src/bank/index.ts";
import { VectorApplier } from "../src/bank/vector-applier.ts";
import { openLog, type Log } from "../src/log/index.ts";
import { median } from "./median.ts";

const { values: args } = parseArgs({
  options: {
    keys: { type: "string", default: "1000000" },
    dim: { type: "string", default: "64" },
    runs: { type: "string", default: "3" },
    "kafka-keys": { type: "string", default: "200000" },
    batch: { type: "string", default: "1024" },
    dir: { type: "string" },
  },
});
const KEYS = Number(args.keys);
const DIM = Number(args.dim);
if (!Number.isInteger(DIM) || DIM < 1) throw new Error(`--dim must be a positive integer, got ${args.dim}`);
const RUNS = Number(args.runs);
const KAFKA_KEYS = Number(args["kafka-keys"]);
const BATCH = Number(args.batch);
const WRITE_CHUNK = 10_000;
const NAMESPACE = "bench";
const BANK = `emb${KEYS}x${DIM}`;

const keyOf = (i: number) => `n${i}`;
const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));

async function ms(work: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** One warm-up, then the median of RUNS, in ms. */
async function measure(work: () => Promise<unknown> | unknown): Promise<number> {
  await ms(work);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await ms(work));
  return median(times);
}

/** Deterministic values: row i is i + j/1000, so a restore can be checked cheaply. */
function rowValues(i: number, out: Float32Array): Float32Array {
  for (let j = 0; j < DIM; j++) out[j] = i + j / 1000;
  return out;
}

async function writeBank(log: Log, keys: number): Promise<number> {
  const writer = await BankWriter.open(log, NAMESPACE, BANK);
  return ms(async () => {
    for (let start = 0; start < keys; start += WRITE_CHUNK) {
      const entries = [];
      for (let i = start; i < Math.min(keys, start + WRITE_CHUNK); i++) entries.push({ key: keyOf(i), values: rowValues(i, new Float32Array(DIM)) });
      await writer.upsertVectors(entries, 1);
    }
  });
}

/** Every record of the bank topic through readColumns, with the view's read limits. */
async function rawColumns(log: Log): Promise<number> {
  const topic = bankTopics(NAMESPACE, BANK).bank;
  let count = 0;
  for (const { partition, highWatermark } of await log.offsets(topic)) {
    for (let offset = 0; offset < highWatermark; ) {
      const { columns, nextOffset } = await log.readColumns(topic, partition, offset, { maxRecords: 10_000 });
      count += columns.count;
      offset = nextOffset;
    }
  }
  return count;
}

async function restore(log: Log, keys: number, snapshotPath?: string): Promise<VectorBankView> {
  const view = await VectorBankView.open(log, NAMESPACE, BANK, { follow: false, ...(snapshotPath ? { snapshotPath } : {}) });
  if (view.size !== keys) throw new Error(`restored ${view.size} keys, expected ${keys}`);
  return view;
}

function check(view: VectorBankView): void {
  const probe = [0, KEYS >> 1, KEYS - 1];
  const { values, found } = view.lookup(probe.map(keyOf));
  const expected = new Float32Array(DIM);
  probe.forEach((i, n) => {
    rowValues(i, expected);
    if (!found[n] || values[n * DIM + DIM - 1] !== expected[DIM - 1]) throw new Error(`key ${keyOf(i)} restored wrong`);
  });
}

interface Lookup {
  readonly view: number;
  readonly gather: number;
  /** Even widths only: it copies float pairs. */
  readonly touchedGather: number | undefined;
  readonly withSteps: number;
}

/** Vectors per second: `view.lookup` of random batches, and a raw gather of the same rows. */
async function lookups(view: VectorBankView): Promise<Lookup> {
  const batches = 256;
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const keyBatches: string[][] = [];
  const rowBatches: Int32Array[] = [];
  const store = view.vectors!;
  for (let b = 0; b < batches; b++) {
    const keys = Array.from({ length: BATCH }, () => keyOf(Math.floor(random() * KEYS)));
    keyBatches.push(keys);
    rowBatches.push(Int32Array.from(keys, (key) => store.rowOfKey(key)));
  }
  const out = new Float32Array(BATCH * DIM);
  const total = batches * BATCH;
  const viewMs = await measure(() => {
    for (const keys of keyBatches) view.lookup(keys, { out });
  });
  const withStepsMs = await measure(() => {
    for (const keys of keyBatches) view.lookup(keys, { out, steps: true });
  });
  const storage = store.storage;
  let sink = 0;
  const gatherMs = await measure(() => {
    for (const rows of rowBatches) {
      for (let i = 0; i < rows.length; i++) {
        const from = rows[i]! * DIM;
        const to = i * DIM;
        for (let j = 0; j < DIM; j++) out[to + j] = storage[from + j]!;
      }
      sink += out[0]!;
    }
  });
  let touchedGatherRate: number | undefined;
  if (DIM % 2 === 0) {
    const pairs = new Float64Array(storage.buffer, storage.byteOffset, storage.length >> 1);
    const pairsOut = new Float64Array(out.buffer);
    const touchedMs = await measure(() => {
      for (const rows of rowBatches) sink += touchedGather(storage, pairs, pairsOut, rows);
    });
    touchedGatherRate = total / (touchedMs / 1000);
  }
  if (Number.isNaN(sink)) console.error(sink);
  return { view: total / (viewMs / 1000), gather: total / (gatherMs / 1000), touchedGather: touchedGatherRate, withSteps: total / (withStepsMs / 1000) };
}

/**
 * The fastest plain gather found here: 128 rows at a time, one float of every cache line of each
 * row read first (so that their misses are under way together), then the rows copied as float64
 * pairs. Even DIM only.
 */
function touchedGather(storage: Float32Array, pairs: Float64Array, out: Float64Array, rows: Int32Array): number {
  let sink = 0;
  const half = DIM / 2;
  for (let start = 0; start < rows.length; start += 128) {
    const end = Math.min(rows.length, start + 128);
    for (let i = start; i < end; i++) {
      const from = rows[i]! * DIM;
      for (let j = from; j < from + DIM; j += 16) sink += storage[j]!;
      sink += storage[from + DIM - 1]!;
    }
    for (let i = start; i < end; i++) {
      const from = rows[i]! * half;
      const to = i * half;
      for (let j = 0; j < half; j++) out[to + j] = pairs[from + j]!;
    }
  }
  return sink;
}

interface Restore {
  readonly keys: number;
  readonly view: number;
  readonly catchUp: number;
  readonly raw: number;
}

async function restoreFromTopic(log: Log, keys: number): Promise<Restore> {
  const raw = await measure(async () => {
    if ((await rawColumns(log)) < keys) throw new Error("raw read came short");
  });
  const view = await measure(async () => {
    const v = await restore(log, keys);
    await v.close();
  });
  const catchUp = await measure(async () => {
    const applier = new VectorApplier(undefined);
    await new BankFollower(log, bankTopics(NAMESPACE, BANK), (await log.offsets(bankTopics(NAMESPACE, BANK).bank)).length, applier).catchUp();
    if (applier.store?.size !== keys) throw new Error(`caught up on ${applier.store?.size} keys, expected ${keys}`);
  });
  return { keys, view, catchUp, raw };
}

const restoreRows = (where: string, r: Restore): string[] => [
  row(`restore from topic (${where})`, `${r.view.toFixed(0)} ms`, `${r.raw.toFixed(0)} ms`, `${fmt(r.keys / (r.view / 1000))} keys/s; ref: readColumns, all partitions`),
  row(`  catch-up alone (${where})`, `${r.catchUp.toFixed(0)} ms`, "", "BankFollower into a VectorApplier, no view"),
];

async function embeddedRows(): Promise<string[]> {
  const dir = args.dir ?? mkdtempSync(join(tmpdir(), "carls-bench-bank-"));
  const lines: string[] = [];
  try {
    const marker = join(dir, `${BANK}.written`);
    mkdirSync(dir, { recursive: true });
    const log = await openLog(`embedded:${dir}`);
    try {
      if (args.dir && existsSync(marker)) {
        lines.push(row("write (BankWriter, embedded)", "reused", "", `bank in ${dir}`));
      } else {
        const writeMs = await writeBank(log, KEYS);
        if (args.dir) writeFileSync(marker, "");
        lines.push(row("write (BankWriter, embedded)", `${fmt(KEYS / (writeMs / 1000))} keys/s`, "", `${(writeMs / 1000).toFixed(1)} s, history + bank`));
      }
      console.error("written");
      lines.push(...restoreRows("embedded", await restoreFromTopic(log, KEYS)));
      console.error("restored from topic");

      const view = await restore(log, KEYS);
      check(view);
      const snapshotPath = join(dir, `${BANK}.snapshot`);
      await view.snapshot(snapshotPath);
      const look = await lookups(view);
      await view.close();
      lines.push(row(`lookup (batches of ${BATCH}, random)`, `${fmt(look.view)} vec/s`, `${fmt(look.gather)} vec/s`, "ref: Float32Array gather by precomputed row"));
      if (look.touchedGather !== undefined) lines.push(row("", "", `${fmt(look.touchedGather)} vec/s`, "ref: the same, rows' cache lines read first (the best plain gather found)"));
      lines.push(row("  with each value's step (steps: true)", `${fmt(look.withSteps)} vec/s`, "", ""));
      console.error("looked up");

      const fromSnapshot = await measure(async () => {
        const v = await restore(log, KEYS, snapshotPath);
        await v.close();
      });
      const readFile = await measure(() => readFileSync(snapshotPath).byteLength);
      lines.push(row("restore from snapshot", `${fromSnapshot.toFixed(0)} ms`, `${readFile.toFixed(0)} ms`, "ref: readFileSync of the snapshot"));
      console.error("restored from snapshot");
    } finally {
      await log.close();
    }
  } finally {
    if (!args.dir) rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

async function kafkaRows(brokers: string): Promise<string[]> {
  const log = await openLog(`kafka://${brokers}`);
  try {
    for (const topic of Object.values(bankTopics(NAMESPACE, BANK))) if ((await log.listTopics()).includes(topic)) await log.deleteTopic(topic);
    const writeMs = await writeBank(log, KAFKA_KEYS);
    return [row(`write (BankWriter, Kafka, N=${fmt(KAFKA_KEYS)})`, `${fmt(KAFKA_KEYS / (writeMs / 1000))} keys/s`, "", `${(writeMs / 1000).toFixed(1)} s`), ...restoreRows(`Kafka, N=${fmt(KAFKA_KEYS)}`, await restoreFromTopic(log, KAFKA_KEYS))];
  } finally {
    for (const topic of Object.values(bankTopics(NAMESPACE, BANK))) await log.deleteTopic(topic).catch(() => undefined);
    await log.close();
  }
}

const row = (what: string, value: string, reference: string, note: string) => `${what.padEnd(40)} ${value.padStart(16)} ${reference.padStart(16)}   ${note}`;

const loadBefore = loadavg()[0]!;
const lines = [row("", "carls", "reference", ""), ...(await embeddedRows())];
const brokers = process.env.CARLS_KAFKA_BROKERS?.trim();
if (brokers) lines.push(...(await kafkaRows(brokers)));
else lines.push("(Kafka: set CARLS_KAFKA_BROKERS to measure a restore from a broker)");
console.log(`\nbank: ${fmt(KEYS)} keys × ${DIM} float32; each figure one warm-up then the median of ${RUNS}; load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, on ${cpus().length} CPUs`);
for (const line of lines) console.log(line);
