/**
 * Training speed of carls' tfjs GNNs per backend, beside PyTorch Geometric on CPU:
 *   - GCN, 200 full-batch epochs on Cora (hidden 16);
 *   - GraphSAGE-mean, one epoch over a seeded synthetic graph (1,000,000 nodes, ~10 edges per
 *     node, 128-d class-correlated features), fan-out [25, 10], batch 1024, hidden 64.
 * PyG runs from a venv outside the repo (~/.cache/carls/pyg-venv), created with
 * `pip install torch torch_geometric` when missing and reused after.
 *
 *   npx tsx bench/gnn/speed.ts [--backends wasm,cpu] [--nodes 1000000] [--cpu-batches 10] [--no-pyg]
 *
 * Backends too slow for a whole SAGE epoch run the first --cpu-batches batches; their epoch
 * time is that scaled to the full batch count and marked "est.".
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { initBackend, type BackendName } from "../../graph/gnn/backend.ts";
import { gcn } from "../../graph/gnn/gcn.ts";
import { loadPlanetoidCsv } from "../../graph/gnn/planetoid-csv.ts";
import { Rng } from "../../graph/gnn/random.ts";
import { sage } from "../../graph/gnn/sage.ts";
import { NeighborSampler, shuffledBatches } from "../../graph/gnn/sampler.ts";
import { normalizedAdjacency, rowNormalize } from "../../graph/gnn/sparse.ts";
import { syntheticGraph, type SyntheticGraph } from "../../graph/gnn/synthetic.ts";
import { adam, trainStep } from "../../graph/gnn/train.ts";

const { values: args } = parseArgs({
  options: {
    backends: { type: "string", default: "wasm,cpu" },
    nodes: { type: "string", default: "1000000" },
    "cpu-batches": { type: "string", default: "10" },
    "max-batches": { type: "string", default: "0" },
    cora: { type: "string", default: "/work/shared/datasets/cora" },
    "no-pyg": { type: "boolean", default: false },
    "pyg-threads": { type: "string", default: "0" },
  },
});

const EPOCHS = 200;
const FANOUTS = [25, 10];
const BATCH = 1024;
const HIDDEN = 64;
const DIM = 128;
const CLASSES = 10;
const numNodes = Number(args.nodes);
const cacheDir = join(homedir(), ".cache", "carls");

interface SageTiming {
  seconds: number;
  samplingSeconds: number;
  batches: number;
  totalBatches: number;
}

function gcnEpochs(): number {
  const data = loadPlanetoidCsv(args.cora!);
  const inputs = { features: rowNormalize(data.features), adjacency: normalizedAdjacency(data.edges, data.numNodes, { selfLoops: true }) };
  const mask = new Float32Array(data.numNodes);
  for (const i of data.split.train) mask[i] = 1;
  const model = gcn({ inputDim: inputs.features.shape[1], hiddenDim: 16, classes: data.numClasses, seed: 0 });
  const optimizer = adam(0.01);
  const start = performance.now();
  for (let e = 0; e < EPOCHS; e++) trainStep(model, optimizer, { inputs, labels: data.labels, mask });
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  optimizer.dispose();
  return seconds;
}

function sageEpoch(g: SyntheticGraph, maxBatches: number): SageTiming {
  const model = sage({ inputDim: DIM, hiddenDim: HIDDEN, classes: CLASSES, seed: 0 });
  const optimizer = adam(0.01);
  const sampler = new NeighborSampler(g.graph, FANOUTS, 0);
  const all = Int32Array.from({ length: numNodes }, (_, i) => i);
  const batches = shuffledBatches(all, BATCH, new Rng(0));
  const run = maxBatches > 0 ? batches.slice(0, maxBatches) : batches;
  let sampling = 0;
  const start = performance.now();
  for (const seeds of run) {
    const t = performance.now();
    const { nodes, blocks } = sampler.sample(seeds);
    sampling += performance.now() - t;
    // The table never changes: the kernel may keep it across batches.
    const features = { table: g.features, dim: DIM, ids: nodes[0]!, version: 0 };
    trainStep(model, optimizer, { inputs: { features, blocks }, labels: Int32Array.from(seeds, (v) => g.labels[v]!) });
  }
  const seconds = (performance.now() - start) / 1000;
  model.dispose();
  optimizer.dispose();
  return { seconds, samplingSeconds: sampling / 1000, batches: run.length, totalBatches: batches.length };
}

/** The venv's python, creating the venv first if needed; or why it could not be had. */
function pygPython(): { python: string } | { error: string } {
  const venv = join(cacheDir, "pyg-venv");
  const python = join(venv, "bin", "python");
  const ready = () => spawnSync(python, ["-c", "import torch, torch_geometric"], { stdio: "ignore" }).status === 0;
  if (existsSync(python) && ready()) return { python };
  mkdirSync(cacheDir, { recursive: true });
  console.error(`speed: creating ${venv} and installing torch + torch_geometric from PyPI (large; cached for later runs)`);
  const steps: string[][] = [
    ["python3", "-m", "venv", venv],
    [join(venv, "bin", "pip"), "install", "--disable-pip-version-check", "torch", "torch_geometric"],
  ];
  for (const [cmd, ...rest] of steps) {
    const r = spawnSync(cmd!, rest, { stdio: ["ignore", "inherit", "pipe"], encoding: "utf8" });
    if (r.status !== 0) return { error: `${[cmd, ...rest].join(" ")} failed: ${(r.error?.message ?? r.stderr.trim().split("\n").slice(-3).join(" | ")) || `exit ${r.status}`}` };
  }
  return ready() ? { python } : { error: "torch / torch_geometric still fail to import after pip install" };
}

/** Writes the synthetic graph as raw little-endian arrays for the Python side. */
function exportGraph(g: SyntheticGraph): string {
  const dir = join(cacheDir, "gnn-bench", `synthetic-${numNodes}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "rowptr.i32"), g.graph.rowPtr);
  writeFileSync(join(dir, "colidx.i32"), g.graph.colIdx);
  writeFileSync(join(dir, "features.f32"), g.features);
  writeFileSync(join(dir, "labels.i32"), g.labels);
  writeFileSync(join(dir, "meta.json"), JSON.stringify({ numNodes, featureDim: DIM, classes: CLASSES }));
  return dir;
}

interface PygResult {
  torch: string;
  threads: number;
  gcn_seconds: number;
  sage: { seconds: number; sampling_seconds: number; batches: number; total_batches: number };
}

function runPyg(python: string, graphDir: string, maxBatches: number): PygResult | { error: string } {
  const script = join(import.meta.dirname, "pyg_speed.py");
  const extra = [...(maxBatches > 0 ? ["--max-batches", String(maxBatches)] : []), ...(args["pyg-threads"] !== "0" ? ["--threads", args["pyg-threads"]!] : [])];
  const r = spawnSync(python, ["-W", "ignore", script, "--cora", args.cora!, "--synthetic", graphDir, "--epochs", String(EPOCHS), "--fanouts", FANOUTS.join(","), "--batch-size", String(BATCH), "--hidden", String(HIDDEN), ...extra], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) return { error: `pyg_speed.py failed (exit ${r.status}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}` };
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as PygResult;
}

// ---- run ----
const backends = args.backends!.split(",") as BackendName[];
const maxBatches = Number(args["max-batches"]);
console.error(`speed: generating the synthetic graph (${numNodes.toLocaleString()} nodes)`);
const genStart = performance.now();
const graph = syntheticGraph({ numNodes, classes: CLASSES, avgDegree: 10, featureDim: DIM, seed: 1 });
console.error(`speed: generated in ${((performance.now() - genStart) / 1000).toFixed(1)} s, ${graph.graph.colIdx.length.toLocaleString()} directed edges`);

const rows: Array<{ name: string; gcn: number; sage: SageTiming; note?: string }> = [];
for (const backend of backends) {
  const info = await initBackend(backend);
  const gcnSeconds = gcnEpochs();
  const limit = backend === "cpu" ? Number(args["cpu-batches"]) : maxBatches;
  rows.push({ name: `tfjs ${info.name}`, gcn: gcnSeconds, sage: sageEpoch(graph, limit) });
}

if (!args["no-pyg"]) {
  const venv = pygPython();
  if ("error" in venv) {
    console.log(`PyG: not run: ${venv.error}`);
  } else {
    const result = runPyg(venv.python, exportGraph(graph), maxBatches);
    if ("error" in result) console.log(`PyG: not run: ${result.error}`);
    else {
      const s = result.sage;
      rows.push({
        name: `PyG ${result.torch} cpu`,
        gcn: result.gcn_seconds,
        sage: { seconds: s.seconds, samplingSeconds: s.sampling_seconds, batches: s.batches, totalBatches: s.total_batches },
        note: `${result.threads} threads`,
      });
    }
  }
}

const epochSeconds = (t: SageTiming): number => (t.seconds * t.totalBatches) / t.batches;
const reference = rows.find((r) => r.name.startsWith("PyG"));
const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
console.log(`\nGCN: ${EPOCHS} epochs on Cora (hidden 16). GraphSAGE-mean: 1 epoch, ${numNodes.toLocaleString()} nodes, fan-out [${FANOUTS}], batch ${BATCH}, ${DIM}-d features, hidden ${HIDDEN}.`);
console.log(`${"runtime".padEnd(26)}${"GCN s".padStart(8)}${"ms/epoch".padStart(10)}${"×PyG".padStart(7)}   ${"SAGE epoch s".padStart(16)}${"sampling s".padStart(12)}${"×PyG".padStart(7)}`);
for (const r of rows) {
  const epoch = epochSeconds(r.sage);
  const partial = r.sage.batches < r.sage.totalBatches;
  const sampling = (r.sage.samplingSeconds * r.sage.totalBatches) / r.sage.batches;
  console.log(
    `${`${r.name}${r.note ? ` (${r.note})` : ""}`.padEnd(26)}${fmt(r.gcn).padStart(8)}${((r.gcn / EPOCHS) * 1000).toFixed(1).padStart(10)}${(reference ? (r.gcn / reference.gcn).toFixed(1) : "-").padStart(7)}   ${`${partial ? "est. " : ""}${fmt(epoch)}`.padStart(16)}${fmt(sampling).padStart(12)}${(reference ? (epoch / epochSeconds(reference.sage)).toFixed(1) : "-").padStart(7)}`,
  );
  if (partial) console.log(`${"".padEnd(26)}(SAGE: ${r.sage.batches} of ${r.sage.totalBatches} batches run, ${((r.sage.seconds / r.sage.batches) * 1000).toFixed(0)} ms/batch)`);
}
