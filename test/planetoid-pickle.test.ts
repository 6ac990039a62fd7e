import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { PickleError, loadPickle } from "../connectors/planetoid/pickle.ts";
import { readPlanetoid } from "../connectors/planetoid/read.ts";
import type { PlanetoidGraph, PlanetoidName } from "../connectors/planetoid/read.ts";

/** The shared datasets beside the repository, or wherever CARLS_DATASETS points. */
const DATASETS = process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../shared/datasets");
const PLANETOID = join(DATASETS, "planetoid");

/** Fails (never skips) when the data is absent: CI always has it. */
function datasetDir(sub: string): string {
  const dir = join(DATASETS, sub);
  if (!existsSync(dir)) throw new Error(`dataset directory ${dir} is missing: these tests need the shared Planetoid datasets (${DATASETS})`);
  return dir;
}

const loads = new Map<PlanetoidName, Promise<{ graph: PlanetoidGraph; ms: number }>>();
function load(name: PlanetoidName): Promise<{ graph: PlanetoidGraph; ms: number }> {
  let pending = loads.get(name);
  if (pending === undefined) {
    const dir = datasetDir("planetoid");
    const start = performance.now();
    pending = readPlanetoid(dir, name).then((graph) => ({ graph, ms: performance.now() - start }));
    loads.set(name, pending);
  }
  return pending;
}

function csvRows(file: string, header: string): string[][] {
  const lines = readFileSync(file, "latin1").split("\n");
  if (lines.at(-1) === "") lines.pop();
  assert.equal(lines[0], header, `${file} header`);
  return lines.slice(1).map((line) => line.split(","));
}

function column(rows: string[][], index: number): number[] {
  return rows.map((row) => Number(row[index]));
}

function assertSameArray(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${what}: first difference at index ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

interface Expected {
  nodes: number;
  edges: number;
  features: number;
  classes: number;
  classSizes: number[];
  split: [number, number, number];
  selfLoops: number;
  isolated: number;
  unlabeled: number;
  featureNnz: number;
  featuresFile: string;
}

// The README table (section 1) of the shared datasets.
const EXPECTED: Record<PlanetoidName, Expected> = {
  cora: {
    nodes: 2708,
    edges: 5278,
    features: 1433,
    classes: 7,
    classSizes: [351, 217, 418, 818, 426, 298, 180],
    split: [140, 500, 1000],
    selfLoops: 0,
    isolated: 0,
    unlabeled: 0,
    featureNnz: 49216,
    featuresFile: "features.csv",
  },
  citeseer: {
    nodes: 3327,
    edges: 4552,
    features: 3703,
    classes: 6,
    classSizes: [249, 590, 668, 701, 596, 508],
    split: [120, 500, 1000],
    selfLoops: 124,
    isolated: 48,
    unlabeled: 15,
    featureNnz: 105165,
    featuresFile: "features.csv",
  },
  pubmed: {
    nodes: 19717,
    edges: 44324,
    features: 500,
    classes: 3,
    classSizes: [4103, 7739, 7875],
    split: [60, 500, 1000],
    selfLoops: 3,
    isolated: 0,
    unlabeled: 0,
    featureNnz: 52959,
    featuresFile: "features_partial.csv",
  },
};

for (const name of ["cora", "citeseer", "pubmed"] as const) {
  describe(`readPlanetoid(${name})`, () => {
    const expected = EXPECTED[name];
    const converted = () => datasetDir(name);

    it("reads the pickles and reports the time", async (t) => {
      const { graph, ms } = await load(name);
      t.diagnostic(`${name}: read in ${ms.toFixed(1)} ms`);
      assert.equal(graph.name, name);
    });

    it("has the README counts", async () => {
      const { graph } = await load(name);
      assert.equal(graph.numNodes, expected.nodes);
      assert.equal(graph.edges.src.length, expected.edges);
      assert.equal(graph.numFeatures, expected.features);
      assert.equal(graph.numClasses, expected.classes);
      assert.deepEqual([graph.split.train.length, graph.split.val.length, graph.split.test.length], expected.split);
      assert.equal(graph.selfLoops, expected.selfLoops);
      assert.equal(graph.features.colIdx.length, expected.featureNnz);
      assert.equal(graph.labels.filter((label) => label === -1).length, expected.unlabeled);
      const sizes = new Array<number>(graph.numClasses).fill(0);
      for (const label of graph.labels) if (label >= 0) sizes[label]!++;
      assert.deepEqual(sizes, expected.classSizes);
      const degree = new Int32Array(graph.numNodes);
      for (let i = 0; i < graph.edges.src.length; i++) degree[graph.edges.src[i]!]!++, degree[graph.edges.dst[i]!]!++;
      assert.equal(degree.filter((d) => d === 0).length, expected.isolated);
    });

    it("has exactly the edges of edges.csv", async () => {
      const { graph } = await load(name);
      const rows = csvRows(join(converted(), "edges.csv"), "src,dst");
      assertSameArray(graph.edges.src, column(rows, 0), "src");
      assertSameArray(graph.edges.dst, column(rows, 1), "dst");
    });

    it("has exactly the labels of labels.csv", async () => {
      const { graph } = await load(name);
      const rows = csvRows(join(converted(), "labels.csv"), "node,label");
      assertSameArray(column(rows, 0), Array.from({ length: graph.numNodes }, (_, i) => i), "labels.csv node column");
      assertSameArray(graph.labels, column(rows, 1), "labels");
    });

    it("has exactly the split of split.json", async () => {
      const { graph } = await load(name);
      const split = JSON.parse(readFileSync(join(converted(), "split.json"), "utf8")) as Record<"train" | "val" | "test", number[]>;
      for (const part of ["train", "val", "test"] as const) assertSameArray(graph.split[part], split[part], part);
    });

    it(`has exactly the features of ${expected.featuresFile}`, async () => {
      const { graph } = await load(name);
      const rows = csvRows(join(converted(), expected.featuresFile), "node,feature,value");
      const { rowPtr, colIdx, values } = graph.features;
      assert.equal(rowPtr.length, graph.numNodes + 1);
      const nodes = new Int32Array(colIdx.length);
      for (let node = 0; node < graph.numNodes; node++) nodes.fill(node, rowPtr[node]!, rowPtr[node + 1]!);
      assertSameArray(nodes, column(rows, 0), "feature node");
      assertSameArray(colIdx, column(rows, 1), "feature column");
      // The CSV holds the shortest decimal that round-trips to the float32.
      assertSameArray(values, Float32Array.from(column(rows, 2)), "feature value");
    });

    it(name === "pubmed" ? "says that ind.pubmed.allx is missing" : "has all its features", async () => {
      const { graph } = await load(name);
      if (name === "pubmed") {
        assert.match(graph.missingFeatures ?? "", /ind\.pubmed\.allx is missing/);
        assert.match(graph.missingFeatures ?? "", /18657 nodes have EMPTY feature rows/);
      } else {
        assert.equal(graph.missingFeatures, undefined);
      }
    });
  });
}

describe("pickle reader robustness", () => {
  const scratch = mkdtempSync(join(tmpdir(), "carls-planetoid-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));
  const bytes = (...parts: Array<string | number[]>) =>
    Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part, "latin1") : Buffer.from(part))));
  const throwsPickleError = (input: Uint8Array, match: { offset: number; opcode: RegExp; message: RegExp }) =>
    assert.throws(
      () => loadPickle(input, "crafted.pkl"),
      (error: unknown) => {
        assert.ok(error instanceof PickleError, `expected a PickleError, got ${String(error)}`);
        assert.equal(error.file, "crafted.pkl");
        assert.equal(error.offset, match.offset);
        assert.match(error.opcode, match.opcode);
        assert.match(error.message, match.message);
        assert.match(error.message, new RegExp(`^crafted\\.pkl: pickle byte ${match.offset}, opcode `));
        return true;
      },
    );

  it("rejects every truncation of a real pickle", () => {
    const file = join(datasetDir("planetoid"), "ind.cora.y");
    const whole = readFileSync(file);
    assert.ok(loadPickle(whole, file));
    for (let length = 0; length < whole.length; length++) {
      assert.throws(() => loadPickle(whole.subarray(0, length), file), (error: unknown) => {
        assert.ok(error instanceof PickleError, `prefix of ${length} bytes: ${String(error)}`);
        assert.match(error.message, /truncated/, `prefix of ${length} bytes`);
        assert.ok(error.message.startsWith(`${file}: pickle byte `), error.message);
        return true;
      });
    }
  });

  it("names the path of a truncated file read by readPlanetoid", async () => {
    const dir = join(scratch, "truncated");
    linkPlanetoid(dir, "cora", "graph");
    const graphFile = join(dir, "ind.cora.graph");
    writeFileSync(graphFile, readFileSync(join(PLANETOID, "ind.cora.graph")).subarray(0, 30_000));
    await assert.rejects(readPlanetoid(dir, "cora"), (error: Error) => {
      assert.ok(error instanceof PickleError);
      assert.ok(error.message.startsWith(`${graphFile}: pickle byte `), error.message);
      assert.match(error.message, /truncated/);
      return true;
    });
  });

  it("rejects a global outside the whitelist without running it", () => {
    // GLOBAL 'os' 'system', SHORT_BINSTRING 'ls', TUPLE1, REDUCE, STOP
    throwsPickleError(bytes([0x80, 2], "cos\nsystem\n", "U", [2], "ls", [0x85], "R."), {
      offset: 2,
      opcode: /^GLOBAL \(0x63\)$/,
      message: /global os\.system is not allowed/,
    });
  });

  it("rejects calling a whitelisted marker global", () => {
    // GLOBAL '__builtin__' 'list', EMPTY_TUPLE, REDUCE: list is only a defaultdict factory here.
    throwsPickleError(bytes([0x80, 2], "c__builtin__\nlist\n)R."), { offset: 21, opcode: /^REDUCE/, message: /calling __builtin__\.list is not allowed/ });
  });

  it("rejects unknown opcodes, including ones that would execute code", () => {
    throwsPickleError(bytes([0x80, 2, 0xff], "."), { offset: 2, opcode: /^0xff$/, message: /unknown opcode/ });
    // INST 'os' 'system' (protocol 0) builds an object by calling a class: never supported.
    throwsPickleError(bytes([0x80, 2], "(ios\nsystem\n."), { offset: 3, opcode: /^0x69 'i'$/, message: /unknown opcode/ });
  });

  it("names the path of a missing required file", async () => {
    const dir = join(scratch, "missing");
    linkPlanetoid(dir, "cora", "ty");
    await assert.rejects(readPlanetoid(dir, "cora"), new RegExp(`required file ${escape(join(dir, "ind.cora.ty"))} is missing`));
  });

  function linkPlanetoid(dir: string, name: PlanetoidName, except: string): void {
    mkdirSync(dir);
    for (const file of readdirSync(datasetDir("planetoid"))) {
      if (file.startsWith(`ind.${name}.`) && file !== `ind.${name}.${except}`) symlinkSync(join(PLANETOID, file), join(dir, file));
    }
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
