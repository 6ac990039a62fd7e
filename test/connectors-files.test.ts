import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { csvSource, formatSummary, jsonlSource, readDeadLetters, readGraph, writeGraph, xmlGraphSource, type GraphSnapshot } from "../connectors/index.ts";
import { openEmbeddedLog, type Log } from "../src/log/index.ts";
import { toDenseFloat32 } from "../src/schema/index.ts";

const dir = mkdtempSync(join(tmpdir(), "carls-conn-files-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
let log: Log;
before(async () => {
  log = await openEmbeddedLog({ dir: join(dir, "store"), maintenanceIntervalMs: 0, durability: "process" });
});
after(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Nodes as `id -> [label, split, features]` and edges as `src>dst[:weight]`, for exact comparisons. */
function plain(graph: GraphSnapshot) {
  const nodes = Object.fromEntries(
    [...graph.nodes.values()].map((n) => [n.id, [n.label ?? null, n.split ?? null, n.features ? Array.from(toDenseFloat32(n.features)) : null]]),
  );
  const edges = [...graph.edges.values()].map((e) => `${e.src}>${e.dst}${e.weight === undefined ? "" : `:${e.weight}`}`).sort();
  return { nodes, edges };
}

describe("CSV / TSV", () => {
  it("reads a node table with feature columns and a weighted edge list, dead-lettering bad rows", async () => {
    const nodes = file("nodes.csv", "id,label,split,f0,f1\na,0,train,1,2\nb,1,val,3,4\nc,,test,5,6\nd,x,train,7,8\ne,1,train,9\n");
    const edges = file("edges.csv", "src,dst,weight\na,b,0.5\nb,c,\nc,a,2\n\nc,d,heavy\nonly-one\n");
    const summary = await writeGraph({ log, namespace: "csv", source: csvSource({ nodes, edges }), progress: false });
    assert.equal(summary.nodes, 3);
    assert.equal(summary.edges, 3);
    assert.equal(summary.bad, 4);
    assert.equal(summary.featureDim, 2);
    assert.deepEqual(plain(await readGraph(log, "csv")), {
      nodes: { a: [0, "train", [1, 2]], b: [1, "val", [3, 4]], c: [null, "test", [5, 6]] },
      edges: ["a>b:0.5", "b>c", "c>a:2"],
    });
    const reasons = (await readDeadLetters(log, "csv")).map((l) => l.reason);
    assert.deepEqual(reasons, [
      `${nodes}:5: label "x" is not a non-negative integer`,
      `${nodes}:6: expected 5 fields, got 4`,
      `${edges}:6: weight "heavy" is not a finite number`,
      `${edges}:7: expected 2 to 3 fields, got 1`,
    ]);
  });

  it("reads a headerless TSV edge list with a features column, delimiter detected", async () => {
    const nodes = file("nodes.tsv", "id\tlabel\tsplit\tfeatures\n1\t2\ttrain\t0.5 1.5\n2\t0\ttest\t[2, 3]\n");
    const edges = file("edges.tsv", "1\t2\n2\t1\t3\n");
    const summary = await writeGraph({ log, namespace: "tsv", source: csvSource({ nodes, edges }), progress: false });
    assert.equal(summary.bad, 0);
    assert.deepEqual(plain(await readGraph(log, "tsv")), {
      nodes: { "1": [2, "train", [0.5, 1.5]], "2": [0, "test", [2, 3]] },
      edges: ["1>2", "2>1:3"],
    });
  });

  it("dead-letters edge rows with more fields than their header names, or than src, dst and a weight", async () => {
    const named = file("named.csv", "src,dst\n1,2\n4,5,notanumber\n1,2,3,4\n");
    const bare = file("bare.csv", "1,2\n2,3,0.5\n1,2,3,4\n");
    const weighted = file("weighted.csv", "src,dst,weight\n1,2\n2,3,0.5\n");
    const summary = await writeGraph({ log, namespace: "widths", source: csvSource({ edges: named }), progress: false });
    const bareSummary = await writeGraph({ log, namespace: "widths-bare", source: csvSource({ edges: bare }), progress: false });
    const weightedSummary = await writeGraph({ log, namespace: "widths-weighted", source: csvSource({ edges: weighted }), progress: false });
    assert.deepEqual([summary.edges, summary.bad, bareSummary.edges, bareSummary.bad, weightedSummary.edges, weightedSummary.bad], [1, 2, 2, 1, 2, 0], "a weight in the header's last column may be left out");
    assert.deepEqual((await readDeadLetters(log, "widths")).map((l) => l.reason), [`${named}:3: expected 2 fields, got 3`, `${named}:4: expected 2 fields, got 4`]);
    assert.deepEqual((await readDeadLetters(log, "widths-bare")).map((l) => l.reason), [`${bare}:3: expected 2 to 3 fields, got 4`]);
  });

  it("says when a source held no rows, and refuses a batch size that is not a positive integer", async () => {
    const empty = file("empty.csv", "src,dst\n");
    const summary = await writeGraph({ log, namespace: "empty", source: csvSource({ edges: empty }), progress: false });
    assert.match(formatSummary(summary), /complete after 0 rows.*\n.*\n  warning: the source held no rows$/);
    await assert.rejects(writeGraph({ log, namespace: "empty", source: csvSource({ edges: empty }), batchSize: 0, progress: false }), /writeGraph: batchSize must be an integer ≥ 1, got 0/);
  });

  it("dead-letters ids that do not match the expected format", async () => {
    const edges = file("ids.csv", "0,1\n1,two\n2,0\n");
    const summary = await writeGraph({ log, namespace: "ids", source: csvSource({ edges, delimiter: "," }), idPattern: /^\d+$/, progress: false });
    assert.equal(summary.edges, 2);
    assert.deepEqual((await readDeadLetters(log, "ids")).map((l) => l.reason), ['edge "1"->"two": id does not match /^\\d+$/']);
  });
});

describe("JSON lines", () => {
  it("reads nodes, edges and deletes, dead-lettering unparseable and mistyped lines", async () => {
    const path = file(
      "graph.jsonl",
      [
        '{"type":"node","id":"a","label":1,"split":"train","features":[1,2,3]}',
        '{"type":"node","id":7,"label":0}',
        '{"type":"edge","src":"a","dst":7,"weight":2}',
        '{"type":"edge","src":"a","dst":"b"}',
        '{"type":"edge-delete","src":"a","dst":"b"}',
        "{not json",
        '{"type":"node","id":"z","features":[1,"x"]}',
        '{"type":"vertex","id":"q"}',
        '{"type":"edge","src":"a"}',
      ].join("\n"),
    );
    const summary = await writeGraph({ log, namespace: "jsonl", source: jsonlSource(path), progress: false });
    assert.equal(summary.bad, 4);
    assert.deepEqual(plain(await readGraph(log, "jsonl")), {
      nodes: { a: [1, "train", [1, 2, 3]], "7": [0, null, null] },
      edges: ["a>7:2"],
    });
    const reasons = (await readDeadLetters(log, "jsonl")).map((l) => l.reason);
    assert.equal(reasons.length, 4);
    assert.match(reasons[0]!, new RegExp(`^${path}:6: not JSON`));
    assert.equal(reasons[1], `${path}:7: feature 1 ("x") is not a finite number`);
    assert.equal(reasons[2], `${path}:8: "type" "vertex" is not node, edge, node-delete or edge-delete`);
    assert.equal(reasons[3], `${path}:9: dst undefined is not a node id (a non-empty string or an integer)`);
  });
});

describe("GraphML and GEXF", () => {
  it("reads GraphML node attributes label, split and numeric features", async () => {
    const path = file(
      "g.graphml",
      `<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="l" for="node" attr.name="label" attr.type="int"/>
  <key id="s" for="node" attr.name="split" attr.type="string"/>
  <key id="f1" for="node" attr.name="f1" attr.type="double"/>
  <key id="f0" for="node" attr.name="f0" attr.type="double"/>
  <key id="w" for="edge" attr.name="weight" attr.type="double"/>
  <graph edgedefault="undirected">
    <node id="n0"><data key="l">1</data><data key="s">train</data><data key="f0">0.5</data><data key="f1">1</data></node>
    <node id="n1"><data key="l">0</data><data key="s">test</data><data key="f0">2</data><data key="f1">3</data></node>
    <node id="n2"><data key="l">0</data><data key="s">nowhere</data><data key="f0">2</data><data key="f1">3</data></node>
    <edge source="n0" target="n1"><data key="w">0.25</data></edge>
  </graph>
</graphml>`,
    );
    const summary = await writeGraph({ log, namespace: "graphml", source: xmlGraphSource(path), progress: false });
    assert.equal(summary.bad, 1);
    assert.deepEqual(plain(await readGraph(log, "graphml")), {
      nodes: { n0: [1, "train", [0.5, 1]], n1: [0, "test", [2, 3]] },
      edges: ["n0>n1:0.25"],
    });
    assert.deepEqual((await readDeadLetters(log, "graphml")).map((l) => l.reason), [`${path}: node "n2": split "nowhere" is not train, val or test`]);
  });

  it("reads GEXF node attributes", async () => {
    const path = file(
      "g.gexf",
      `<?xml version="1.0" encoding="UTF-8"?>
<gexf xmlns="http://gexf.net/1.3" version="1.3">
  <graph defaultedgetype="directed">
    <attributes class="node">
      <attribute id="0" title="split" type="string"/>
      <attribute id="1" title="f0" type="float"/>
      <attribute id="2" title="f1" type="float"/>
    </attributes>
    <nodes>
      <node id="a" label="2"><attvalues><attvalue for="0" value="val"/><attvalue for="1" value="1.5"/><attvalue for="2" value="-1"/></attvalues></node>
      <node id="b" label="0"><attvalues><attvalue for="0" value="train"/><attvalue for="1" value="0"/><attvalue for="2" value="4"/></attvalues></node>
    </nodes>
    <edges>
      <edge id="e0" source="a" target="b" weight="3"/>
      <edge id="e1" source="b" target="a"/>
    </edges>
  </graph>
</gexf>`,
    );
    const summary = await writeGraph({ log, namespace: "gexf", source: xmlGraphSource(path), progress: false });
    assert.equal(summary.bad, 0);
    assert.deepEqual(plain(await readGraph(log, "gexf")), {
      nodes: { a: [2, "val", [1.5, -1]], b: [0, "train", [0, 4]] },
      edges: ["a>b:3", "b>a"],
    });
  });
});
