import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, it } from "node:test";
import { ogbSource, readDeadLetters, readGraph, writeGraph } from "../connectors/index.ts";
import { openEmbeddedLog } from "../src/log/index.ts";
import { toDenseFloat32 } from "../src/schema/index.ts";

const dir = mkdtempSync(join(tmpdir(), "carls-conn-ogb-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function gz(path: string, lines: readonly string[]) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, gzipSync(lines.join("\n") + "\n"));
}

it("reads the OGB node-property layout from gzipped CSVs", async () => {
  const data = join(dir, "ogbn-tiny");
  gz(join(data, "raw", "node-feat.csv.gz"), ["0.5,1,-2", "1,1,1", "0,0,0", "2,x,1"]);
  gz(join(data, "raw", "node-label.csv.gz"), ["3", "0", "nan", "1"]);
  gz(join(data, "raw", "edge.csv.gz"), ["0,1", "1,2", "2,0", "3,1", "1,a"]);
  gz(join(data, "split", "time", "train.csv.gz"), ["0", "3"]);
  gz(join(data, "split", "time", "valid.csv.gz"), ["1"]);
  gz(join(data, "split", "time", "test.csv.gz"), ["2"]);

  const log = await openEmbeddedLog({ dir: join(dir, "store"), maintenanceIntervalMs: 0, durability: "process" });
  try {
    const summary = await writeGraph({ log, namespace: "ogb", source: ogbSource(data), progress: false });
    assert.equal(summary.complete, true);
    assert.equal(summary.nodes, 3);
    assert.equal(summary.edges, 4);
    assert.equal(summary.bad, 2);
    assert.equal(summary.featureDim, 3);
    assert.deepEqual(summary.labels, [0, 3]);

    const graph = await readGraph(log, "ogb");
    const nodes = Object.fromEntries([...graph.nodes.values()].map((n) => [n.id, [n.label, n.split, Array.from(toDenseFloat32(n.features!))]]));
    assert.deepEqual(nodes, { "0": [3, "train", [0.5, 1, -2]], "1": [0, "val", [1, 1, 1]], "2": [null, "test", [0, 0, 0]] });
    assert.deepEqual([...graph.edges.values()].map((e) => `${e.src}>${e.dst}`).sort(), ["0>1", "1>2", "2>0", "3>1"]);
    assert.deepEqual((await readDeadLetters(log, "ogb")).map((l) => l.reason), [
      `${join(data, "raw", "node-feat.csv.gz")}:4: feature 1 ("x") is not a finite number`,
      `${join(data, "raw", "edge.csv.gz")}:5: expected two node indices \`src,dst\``,
    ]);
  } finally {
    await log.close();
  }
});
