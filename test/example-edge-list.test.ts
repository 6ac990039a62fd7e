import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, it } from "node:test";

const DATASETS = process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../shared/datasets");
const CORA = join(DATASETS, "cora");
const dir = mkdtempSync(join(tmpdir(), "carls-example-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Cora's converted files as a user's CSVs: `id,label,split,f0..` and `src,dst`. */
function writeCoraCsv(): { nodes: string; edges: string } {
  if (!existsSync(CORA)) throw new Error(`dataset directory ${CORA} is missing (set CARLS_DATASETS)`);
  const lines = (file: string) => readFileSync(join(CORA, file), "utf8").trim().split("\n").slice(1);
  const n = 2708;
  const dim = 1433;
  const features = new Uint8Array(n * dim);
  for (const line of lines("features.csv")) {
    const [node, feature] = line.split(",").map(Number) as [number, number];
    features[node * dim + feature] = 1;
  }
  const split = new Array<string>(n).fill("");
  const json = JSON.parse(readFileSync(join(CORA, "split.json"), "utf8")) as Record<string, number[]>;
  for (const [name, ids] of Object.entries(json)) for (const id of ids) split[id] = name;
  const rows = lines("labels.csv").map((line) => {
    const [node, label] = line.split(",").map(Number) as [number, number];
    return `${node},${label},${split[node]},${features.subarray(node * dim, (node + 1) * dim).join(",")}`;
  });
  const nodes = join(dir, "nodes.csv");
  const edges = join(dir, "edges.csv");
  writeFileSync(nodes, `id,label,split,${Array.from({ length: dim }, (_, i) => `f${i}`).join(",")}\n${rows.join("\n")}\n`);
  writeFileSync(edges, `src,dst\n${lines("edges.csv").join("\n")}\n`);
  return { nodes, edges };
}

it("examples/edge-list-graphsage: CSV edge list and node table to a trained GraphSAGE on Cora", async () => {
  const { nodes, edges } = writeCoraCsv();
  const output = await new Promise<string>((resolveRun, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", resolve(import.meta.dirname, "../examples/edge-list-graphsage.ts"), "--edges", edges, "--nodes", nodes, "--store", join(dir, "store")],
      { timeout: 240_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, CARLS_TF_BACKEND: "wasm" } },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolveRun(stdout)),
    );
  });
  assert.match(output, /nodes 2708, edges 5278, .*classes 7, bad records 0/);
  const accuracy = Number(/test accuracy ([\d.]+)%/.exec(output)?.[1]);
  assert.ok(accuracy >= 75, `GraphSAGE reached ${accuracy}% on Cora (expected about 80)\n${output}`);
});
