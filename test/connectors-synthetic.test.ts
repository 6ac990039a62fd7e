import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { homophilyOf, syntheticEvents, type SyntheticOptions } from "../connectors/index.ts";
import { toDenseFloat32, type GraphEvent } from "../src/schema/index.ts";

const base: SyntheticOptions = { seed: 42, nodes: 5000, classes: 5, avgDegree: 10, homophily: 0.8, featureDim: 8, split: { train: 0.2, val: 0.1 } };

function summarise(events: Iterable<GraphEvent>) {
  const label = new Map<string, number>();
  let edges = 0;
  let same = 0;
  let selfLoops = 0;
  const splits = { train: 0, val: 0, test: 0 };
  for (const e of events) {
    if (e.kind === "node") {
      label.set(e.id, e.label!);
      splits[e.split!]++;
    } else if (e.kind === "edge") {
      edges++;
      if (label.get(e.src) === label.get(e.dst)) same++;
      if (e.src === e.dst) selfLoops++;
    }
  }
  return { nodes: label.size, edges, homophily: same / edges, selfLoops, splits };
}

describe("synthetic CSBM", () => {
  it("is deterministic: the same seed gives the same events, another seed different ones", () => {
    const a = [...syntheticEvents({ ...base, nodes: 500 })];
    const b = [...syntheticEvents({ ...base, nodes: 500 })];
    assert.deepEqual(a, b);
    const c = [...syntheticEvents({ ...base, nodes: 500, seed: 43 })];
    assert.notDeepEqual(a, c);
    assert.deepEqual([...syntheticEvents({ ...base, nodes: 500 }, 123)], a.slice(123), "resuming at a row gives the same tail");
  });

  it("hits the target homophily, degree and split fractions", () => {
    for (const homophily of [0.9, 0.5, 0.1]) {
      const s = summarise(syntheticEvents({ ...base, homophily }));
      assert.equal(s.nodes, 5000);
      assert.ok(Math.abs(s.homophily - homophily) < 0.02, `homophily ${s.homophily} vs target ${homophily}`);
      assert.ok(Math.abs((2 * s.edges) / s.nodes - 10) < 0.3, `average degree ${(2 * s.edges) / s.nodes}`);
      assert.equal(s.selfLoops, 0);
      assert.ok(Math.abs(s.splits.train / 5000 - 0.2) < 0.02 && Math.abs(s.splits.val / 5000 - 0.1) < 0.02, JSON.stringify(s.splits));
    }
    assert.equal(homophilyOf({ ...base, homophily: undefined, pInOverPOut: 16 }), 0.8);
  });

  it("gives class-correlated features: nodes lie nearer their own class mean", () => {
    const nodes = [...syntheticEvents({ ...base, avgDegree: 0, classSeparation: 3 })].filter((e) => e.kind === "node");
    const sums = Array.from({ length: 5 }, () => ({ n: 0, mean: new Float64Array(8) }));
    for (const node of nodes) {
      const s = sums[node.label!]!;
      s.n++;
      toDenseFloat32(node.features!).forEach((v, d) => (s.mean[d]! += v));
    }
    const means = sums.map((s) => s.mean.map((v) => v / s.n));
    const dist = (x: Float32Array, m: Float64Array) => x.reduce((acc, v, d) => acc + (v - m[d]!) ** 2, 0);
    let nearestOwn = 0;
    for (const node of nodes) {
      const x = toDenseFloat32(node.features!);
      const nearest = means.reduce((best, m, c) => (dist(x, m) < dist(x, means[best]!) ? c : best), 0);
      if (nearest === node.label) nearestOwn++;
    }
    assert.ok(nearestOwn / nodes.length > 0.9, `only ${nearestOwn} of ${nodes.length} nearest their class mean`);
  });

  it("streams a million nodes without an N x N structure", () => {
    const started = performance.now();
    let count = 0;
    for (const e of syntheticEvents({ seed: 1, nodes: 1_000_000, classes: 10, avgDegree: 2, homophily: 0.7, featureDim: 2 })) if (e.kind === "edge") count++;
    assert.ok(Math.abs(count / 1_000_000 - 1) < 0.01, `${count} edges`);
    assert.ok(performance.now() - started < 20_000);
  });

  it("refuses impossible options with a clear error", () => {
    assert.throws(() => [...syntheticEvents({ ...base, homophily: 1.5 })], /homophily must be in \[0, 1\], got 1.5/);
    assert.throws(() => [...syntheticEvents({ ...base, nodes: 0 })], /nodes must be a positive integer/);
  });
});
