import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { formatSummary, planetoidSource, readGraph, writeGraph } from "../connectors/index.ts";
import { readPlanetoid } from "../connectors/planetoid/read.ts";
import { openEmbeddedLog, type Log } from "../src/log/index.ts";
import { toDenseFloat32 } from "../src/schema/index.ts";

const DATASETS = process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../shared/datasets");
const PLANETOID = join(DATASETS, "planetoid");

describe("planetoid connector (cora)", () => {
  const dir = mkdtempSync(join(tmpdir(), "carls-conn-planetoid-"));
  let log: Log;
  before(async () => {
    log = await openEmbeddedLog({ dir, maintenanceIntervalMs: 0, durability: "process" });
  });
  after(async () => {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes every node with features, label and split, and every undirected edge once", async () => {
    const summary = await writeGraph({ log, namespace: "cora", source: planetoidSource(PLANETOID, "cora"), progress: false });
    assert.equal(summary.complete, true);
    assert.equal(summary.nodes, 2708);
    assert.equal(summary.edges, 5278);
    assert.equal(summary.featureDim, 1433);
    assert.deepEqual(summary.labels, [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(summary.bad, 0);
    assert.match(formatSummary(summary), /nodes 2708, edges 5278, .*feature dim 1433, classes 7, bad records 0/);

    const graph = await readGraph(log, "cora");
    const cora = await readPlanetoid(PLANETOID, "cora");
    assert.equal(graph.nodes.size, 2708);
    assert.equal(graph.edges.size, 5278);
    assert.equal(graph.nodeRecords, 2708);
    assert.equal(graph.edgeRecords, 5278);
    const splitCounts = { train: 0, val: 0, test: 0, none: 0 };
    let nnz = 0;
    for (let i = 0; i < cora.numNodes; i++) {
      const node = graph.nodes.get(String(i))!;
      assert.equal(node.label, cora.labels[i]);
      splitCounts[node.split ?? "none"]++;
      assert.equal(node.features?.kind, "sparse");
      const dense = toDenseFloat32(node.features!);
      const { rowPtr, colIdx, values } = cora.features;
      for (let k = rowPtr[i]!; k < rowPtr[i + 1]!; k++) assert.equal(dense[colIdx[k]!], values[k]);
      nnz += node.features!.values.length;
    }
    assert.deepEqual(splitCounts, { train: 140, val: 500, test: 1000, none: 1068 });
    assert.equal(nnz, 49216);
    for (let e = 0; e < cora.edges.src.length; e++) assert.ok(graph.edges.has(`${cora.edges.src[e]}\u0000${cora.edges.dst[e]}`));
  });

  it("a re-run of a complete ingest writes nothing", async () => {
    const summary = await writeGraph({ log, namespace: "cora", source: planetoidSource(PLANETOID, "cora"), progress: false });
    assert.equal(summary.complete, true);
    assert.equal(summary.batches, 0);
    const graph = await readGraph(log, "cora");
    assert.equal(graph.nodeRecords + graph.edgeRecords, 2708 + 5278);
  });
});
