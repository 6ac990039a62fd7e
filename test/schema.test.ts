import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openEmbeddedLog } from "../src/log/index.ts";
import { decodeNeighbourList, encodeNeighbourList } from "../src/schema/neighbour-list.ts";
import { graphTopics } from "../src/schema/graph-topics.ts";
import { bankTopics } from "../src/bank/topics.ts";
import {
  DEAD_LETTER_HEADERS,
  decodeEdge,
  decodeNode,
  decodeVector,
  denseVector,
  encodeEdge,
  encodeNode,
  encodeVector,
  ensureDeadLetterTopic,
  edgeTombstone,
  nodeTombstone,
  sendToDeadLetters,
  sparseVector,
  toDenseFloat32,
  VectorFormatError,
} from "../src/schema/index.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

describe("vectors", () => {
  it("round-trips dense vectors of every dtype with their step", () => {
    for (const values of [Float32Array.from([1.5, -2, 3e-8]), Int32Array.from([1, -2, 3]), Uint8Array.from([0, 255])]) {
      const decoded = decodeVector(encodeVector(denseVector(values, 42)));
      assert.equal(decoded.kind, "dense");
      assert.equal(decoded.step, 42);
      assert.deepEqual([...decoded.values], [...values]);
      assert.equal(decoded.values.constructor, values.constructor);
    }
  });

  it("round-trips sparse vectors and expands them", () => {
    const v = sparseVector(1433, Uint32Array.from([3, 70, 1432]), Float32Array.from([1, 1, 0.5]));
    const bytes = encodeVector(v);
    assert.ok(bytes.byteLength < 64, `a 3-nnz vector of dim 1433 takes ${bytes.byteLength} bytes`);
    const decoded = decodeVector(bytes);
    assert.equal(decoded.kind, "sparse");
    const dense = toDenseFloat32(decoded);
    assert.equal(dense.length, 1433);
    assert.deepEqual([dense[3], dense[70], dense[1432], dense[0]], [1, 1, 0.5, 0]);
    assert.equal(decoded.step, -1);
  });

  it("decodes into memory of its own", () => {
    const bytes = encodeVector(denseVector(Float32Array.from([1, 2])));
    const decoded = decodeVector(bytes);
    bytes.fill(0);
    assert.deepEqual([...decoded.values], [1, 2]);
  });

  it("says what is wrong with a bad vector", () => {
    const good = encodeVector(denseVector(Float32Array.from([1, 2, 3])));
    const badMagic = good.slice();
    badMagic[0] = 0;
    assert.throws(() => decodeVector(badMagic), (e: unknown) => e instanceof VectorFormatError && /magic/.test((e as Error).message));
    const badVersion = good.slice();
    badVersion[2] = 9;
    assert.throws(() => decodeVector(badVersion), /version 9/);
    assert.throws(() => decodeVector(good.subarray(0, good.length - 1)), /needs 36 bytes, got 35/);
    assert.throws(() => decodeVector(good.subarray(0, 10)), /shorter than its 24-byte header/);
    assert.throws(() => encodeVector(sparseVector(10, Uint32Array.from([5, 2]), Float32Array.from([1, 1]))), /strictly increasing/);
    assert.throws(() => encodeVector(sparseVector(10, Uint32Array.from([10]), Float32Array.from([1]))), /below dim 10/);
  });
});

describe("graph records", () => {
  it("round-trips a node with label, split and sparse features, and its deletion", () => {
    const features = sparseVector(100, Uint32Array.from([1, 9]), Float32Array.from([1, 1]));
    const { key, value } = encodeNode({ id: "paper-7", label: 3, split: "train", features });
    const decoded = decodeNode(key, value);
    assert.ok(decoded.ok);
    assert.equal(decoded.value.kind, "node");
    if (decoded.value.kind !== "node") return;
    assert.deepEqual([decoded.value.id, decoded.value.label, decoded.value.split], ["paper-7", 3, "train"]);
    assert.deepEqual([...(decoded.value.features as { indices: Uint32Array }).indices], [1, 9]);
    const bare = decodeNode(...Object.values(encodeNode({ id: "n" })) as [Uint8Array, Uint8Array]);
    assert.ok(bare.ok && bare.value.kind === "node" && bare.value.features === undefined && bare.value.label === undefined);
    const deleted = decodeNode(nodeTombstone("paper-7").key, null);
    assert.deepEqual(deleted, { ok: true, value: { kind: "node-delete", id: "paper-7" } });
    assert.deepEqual(decodeNode(nodeTombstone("\uFEFFpaper").key, null), { ok: true, value: { kind: "node-delete", id: "\uFEFFpaper" } }, "a leading U+FEFF is part of the id");
  });

  it("names the field of an invalid node record", () => {
    const meta = (json: string) => {
      const bytes = enc.encode(json);
      const value = new Uint8Array(4 + bytes.length);
      new DataView(value.buffer).setUint32(0, bytes.length, true);
      value.set(bytes, 4);
      return value;
    };
    const reason = (value: Uint8Array | null, key: Uint8Array | null = enc.encode("n1")) => {
      const decoded = decodeNode(key, value);
      assert.ok(!decoded.ok, "expected a failure");
      return decoded.reason;
    };
    assert.match(reason(meta('{"label":-2}')), /node n1: .*label/s);
    assert.match(reason(meta('{"split":"holdout"}')), /split/);
    assert.match(reason(meta('{"colour":"red"}')), /colour/);
    assert.match(reason(meta("{not json")), /not JSON/);
    assert.match(reason(new Uint8Array([1, 2])), /no meta length/);
    assert.match(reason(meta("{}"), null), /no key/);
    assert.match(reason(meta("{}"), Uint8Array.from([0xff, 0xfe])), /UTF-8/);
    assert.throws(() => encodeNode({ id: "" }), /non-empty/);
    assert.throws(() => encodeNode({ id: "n", label: 1.5 }), /node n: label must be an integer ≥ 0 \(at most 2\^53 - 1\) or null, got 1.5/);
    // What would not decode is not written: 2^60 is an integer, but not one a reader can trust.
    assert.throws(() => encodeNode({ id: "n", label: 2 ** 60 }), /node n: label must be an integer ≥ 0 \(at most 2\^53 - 1\) or null, got 1152921504606847000/);
    assert.throws(() => encodeNode({ id: "n", label: -1 }), /label must be an integer ≥ 0/);
    assert.throws(() => encodeNode({ id: "n", split: "dev" as "val" }), /node n: split must be one of "train", "val", "test" or null, got "dev"/);
    for (const meta of [{ label: null, split: null }, { label: 0 }, { split: "test" as const }]) {
      assert.deepEqual(decodeNode(...(Object.values(encodeNode({ id: "n", ...meta })) as [Uint8Array, Uint8Array])), { ok: true, value: { kind: "node", id: "n", ...meta } });
    }
  });

  it("round-trips edges and their deletion, and rejects bad ones with a reason", () => {
    const { key, value } = encodeEdge({ src: "a", dst: "b", weight: 0.25 });
    assert.deepEqual(decodeEdge(key, value), { ok: true, value: { kind: "edge", src: "a", dst: "b", weight: 0.25 } });
    assert.deepEqual(decodeEdge(edgeTombstone("a", "b").key, null), { ok: true, value: { kind: "edge-delete", src: "a", dst: "b" } });
    const bad = decodeEdge(enc.encode("a-b"), enc.encode("{}"));
    assert.ok(!bad.ok && /src NUL dst/.test(bad.reason));
    const badWeight = decodeEdge(key, enc.encode('{"weight":"heavy"}'));
    assert.ok(!badWeight.ok && /weight/.test(badWeight.reason));
    assert.deepEqual(decodeEdge(...(Object.values(encodeEdge({ src: "a", dst: "b" })) as [Uint8Array, Uint8Array])), { ok: true, value: { kind: "edge", src: "a", dst: "b" } });
    assert.throws(() => encodeEdge({ src: "a", dst: "b", weight: Number.NaN }), /edge a -> b: weight must be a finite number, got null/);
  });
});

describe("dead letters", () => {
  it("sends refused records with their origin and reason to <namespace>.dead-letters", async () => {
    const dir = mkdtempSync(join(tmpdir(), "carls-dlq-"));
    const log = await openEmbeddedLog({ dir, maintenanceIntervalMs: 0 });
    try {
      const dlq = await ensureDeadLetterTopic(log, "run1.graph.nodes");
      assert.equal(dlq, "run1.dead-letters");
      const decoded = decodeNode(enc.encode("n1"), new Uint8Array([9]));
      assert.ok(!decoded.ok);
      await sendToDeadLetters(log, [{ topic: "run1.graph.nodes", partition: 2, record: { key: enc.encode("n1"), value: new Uint8Array([9]), offset: 17 }, reason: decoded.reason }]);
      const { records } = await log.read(dlq, 0, 0);
      assert.equal(records.length, 1);
      const h = records[0]!.headers;
      assert.deepEqual(
        [dec.decode(h[DEAD_LETTER_HEADERS.topic]), dec.decode(h[DEAD_LETTER_HEADERS.partition]), dec.decode(h[DEAD_LETTER_HEADERS.offset])],
        ["run1.graph.nodes", "2", "17"],
      );
      assert.match(dec.decode(h[DEAD_LETTER_HEADERS.reason]), /no meta length/);
      assert.deepEqual([...records[0]!.value!], [9]);
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("neighbour lists", () => {
  const list = { step: 7, ids: ["a", "日本", "", "\uFEFFnode-42"], distances: Float32Array.of(0.5, 1, 1.5, 2) };

  it("round-trips ids (any UTF-8, empty included), distances and step, ids kept as bytes until asked for", () => {
    const bytes = encodeNeighbourList(list);
    const decoded = decodeNeighbourList(bytes);
    assert.equal(decoded.step, 7);
    assert.deepEqual([...decoded.distances], [0.5, 1, 1.5, 2]);
    assert.deepEqual([...decoded.idStarts], [0, 1, 7, 7, 17]);
    bytes.fill(0); // the list keeps no reference to the record's bytes
    assert.deepEqual(decoded.ids, list.ids, "a leading U+FEFF is part of the id");
    assert.deepEqual(JSON.parse(JSON.stringify(decoded)), { step: 7, ids: list.ids, distances: { 0: 0.5, 1: 1, 2: 1.5, 3: 2 } });
  });

  it("rejects an id that is not UTF-8, and truncated lists, naming what is wrong", () => {
    const bytes = encodeNeighbourList(list);
    const bad = bytes.slice();
    bad[bytes.length - 1] = 0xff; // inside the last id
    assert.throws(() => decodeNeighbourList(bad), /neighbour id 3 is not valid UTF-8/);
    assert.throws(() => decodeNeighbourList(bytes.subarray(0, bytes.length - 2)), /neighbour list is truncated at id 3/);
    assert.throws(() => decodeNeighbourList(bytes.subarray(0, 10)), /shorter than its header/);
    const cutAfterFirstId = 16 + 4 * 4 + 2 + 1;
    assert.throws(() => decodeNeighbourList(bytes.subarray(0, cutAfterFirstId)), /neighbour list is truncated at id 1/);
  });
});

describe("namespaces", () => {
  it("prefix topic names only when topic names can start with them", () => {
    assert.deepEqual(graphTopics("cora-1"), { nodes: "cora-1.graph.nodes", edges: "cora-1.graph.edges" });
    for (const bad of ["", ".hidden", "team.run1", "bad ns", "a/b", "x".repeat(181)]) {
      const message = `namespace ${JSON.stringify(bad)} must be 1-180 characters of [a-zA-Z0-9_-]`;
      assert.throws(() => graphTopics(bad), { message });
      assert.throws(() => bankTopics(bad, "emb"), { message });
    }
  });
});
