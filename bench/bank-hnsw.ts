/**
 * bench/bank-hnsw: NearestIndex (hnswlib on its worker thread) on N clustered vectors, beside
 * the reference measured in the same run: brute-force search (exactNearest, main thread).
 *
 *   npx tsx bench/bank-hnsw.ts [--n 100000] [--dim 64] [--ef 64] [--efc 200] [--m 16]
 *
 * Build: one `rebuild` of all N points (includes the copy to the worker). Search: batches of
 * `--batch` fresh queries from the same distribution, k 10. recall@10 and the brute-force rate
 * are measured on `--sample` of those queries. `--n 1000000` works; its brute-force pass takes
 * minutes.
 */
import { parseArgs } from "node:util";
import { Rng } from "../graph/gnn/random.ts";
import { NearestIndex, exactNearest, recallAtK, type Space } from "../src/bank/nearest/nearest-index.ts";

const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "100000" },
    dim: { type: "string", default: "64" },
    space: { type: "string", default: "cosine" },
    m: { type: "string", default: "16" },
    efc: { type: "string", default: "200" },
    ef: { type: "string", default: "64" },
    batch: { type: "string", default: "1024" },
    batches: { type: "string", default: "8" },
    sample: { type: "string", default: "1000" },
    seed: { type: "string", default: "1" },
  },
});
const N = Number(args.n);
const DIM = Number(args.dim);
const SPACE = args.space as Space;
const K = 10;
const BATCH = Number(args.batch);

/** n points, each a random one of n/100 centres (uniform in ±1) plus uniform noise in ±1. */
function clustered(rng: Rng, centers: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * DIM);
  const noise = new Float32Array(DIM);
  for (let i = 0; i < n; i++) {
    const c = rng.int(centers.length / DIM);
    rng.fillUniform(noise, -1, 1);
    for (let j = 0; j < DIM; j++) out[i * DIM + j] = centers[c * DIM + j]! + noise[j]!;
  }
  return out;
}

const rng = new Rng(Number(args.seed));
const centers = new Float32Array(Math.max(1, Math.round(N / 100)) * DIM);
rng.fillUniform(centers, -1, 1);
const vectors = clustered(rng, centers, N);
const labels = Int32Array.from({ length: N }, (_, i) => i);
const queries = clustered(rng, centers, BATCH * Number(args.batches));

const index = await NearestIndex.open({ dim: DIM, space: SPACE, m: Number(args.m), efConstruction: Number(args.efc), efSearch: Number(args.ef) });
let t = performance.now();
await index.rebuild(labels, vectors);
const buildRate = N / ((performance.now() - t) / 1000);

t = performance.now();
for (let b = 0; b < queries.length; b += BATCH * DIM) await index.search(queries.subarray(b, b + BATCH * DIM), K);
const searchRate = queries.length / DIM / ((performance.now() - t) / 1000);

const sample = queries.subarray(0, Number(args.sample) * DIM);
const approx = await index.search(sample, K);
await index.close();
t = performance.now();
const exact = exactNearest(vectors, labels, DIM, sample, K, SPACE);
const bruteRate = sample.length / DIM / ((performance.now() - t) / 1000);

const fmt = (x: number): string => Math.round(x).toLocaleString("en-US");
const rows = [
  ["", "rate", "recall@10"],
  ["build (hnsw, worker)", `${fmt(buildRate)} points/s`, ""],
  [`search (hnsw, batches of ${BATCH})`, `${fmt(searchRate)} queries/s`, recallAtK(approx, exact).toFixed(3)],
  ["search (brute force, main thread)", `${fmt(bruteRate)} queries/s`, "1 (reference)"],
];
console.log(`bank-hnsw: ${fmt(N)} clustered vectors × ${DIM} (${SPACE}; M ${args.m}, efConstruction ${args.efc}, efSearch ${args.ef}), k ${K}`);
for (const [step, rate, recall] of rows) console.log(`  ${step!.padEnd(36)}${rate!.padStart(18)}  ${recall}`);
