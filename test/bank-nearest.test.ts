/**
 * NearestIndex on real hnswlib (in its worker thread), checked against the brute-force reference.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Rng } from "../graph/gnn/random.ts";
import { NearestIndex, exactNearest, recallAtK, type NearestResult } from "../src/bank/nearest/nearest-index.ts";
import { SyncedIndex } from "../src/bank/nearest/synced-index.ts";
import { VectorStore } from "../src/bank/vector-store.ts";

/** n points around `centers` (uniform noise of ±spread per coordinate), and a matching sampler. */
function clustered(rng: Rng, centers: Float32Array, dim: number, n: number, spread = 0.5): Float32Array {
  const out = new Float32Array(n * dim);
  const noise = new Float32Array(dim);
  for (let i = 0; i < n; i++) {
    const c = rng.int(centers.length / dim);
    rng.fillUniform(noise, -spread, spread);
    for (let j = 0; j < dim; j++) out[i * dim + j] = centers[c * dim + j]! + noise[j]!;
  }
  return out;
}

const range = (start: number, n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => start + i);
const row = (vectors: Float32Array, dim: number, i: number): Float32Array => vectors.slice(i * dim, (i + 1) * dim);

describe("NearestIndex on 20k clustered vectors of dim 64", () => {
  const dim = 64;
  const rng = new Rng(7);
  const centers = new Float32Array(100 * dim);
  rng.fillUniform(centers, -1, 1);
  const old = clustered(rng, centers, dim, 1000);
  const big = clustered(rng, centers, dim, 20_000);
  const bigLabels = range(100_000, 20_000);
  let index: NearestIndex;

  before(async () => {
    index = await NearestIndex.open({ dim, efConstruction: 100, seed: 1 });
    await index.rebuild(range(0, 1000), old);
    assert.equal(index.size, 1000);
  });
  after(() => index.close());

  test("searches during a rebuild resolve first, from the old index; the main event loop keeps running", async (t) => {
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 10);
    const probe = clustered(rng, centers, dim, 16);
    let rebuilt = false;
    const rebuild = index.rebuild(bigLabels, big).then(() => (rebuilt = true));
    const seen: { beforeRebuild: boolean; result: NearestResult; size: number }[] = [];
    try {
      while (!rebuilt) {
        const result = await index.search(probe, 10);
        seen.push({ beforeRebuild: !rebuilt, result, size: index.size });
        await sleep(20);
      }
      await rebuild;
    } finally {
      clearInterval(timer);
    }
    const during = seen.filter((s) => s.beforeRebuild);
    assert.ok(during.length >= 3, `only ${during.length} searches resolved during the rebuild`);
    for (const s of during) {
      assert.equal(s.size, 1000);
      assert.ok(s.result.labels.every((label) => label >= 0 && label < 1000), "a search during the rebuild saw a new label");
    }
    for (const s of seen.filter((s) => !s.beforeRebuild)) assert.ok(s.result.labels.every((label) => label >= 100_000));
    t.diagnostic(`${during.length} searches answered during the rebuild; longest main-loop gap ${maxGap.toFixed(0)} ms`);
    assert.ok(maxGap < 200, `main event loop stalled for ${maxGap.toFixed(0)} ms during the rebuild`);

    assert.equal(index.size, 20_000);
    const afterwards = await index.search(probe, 10);
    assert.ok(afterwards.labels.every((label) => label >= 100_000), "after the rebuild, results come from the new contents");
  });

  test("recall@10 ≥ 0.95 against exactNearest", async (t) => {
    const queries = clustered(rng, centers, dim, 200);
    const approx = await index.search(queries, 10);
    const recall = recallAtK(approx, exactNearest(big, bigLabels, dim, queries, 10, "cosine"));
    t.diagnostic(`recall@10 = ${recall}`);
    assert.ok(recall >= 0.95, `recall@10 = ${recall}`);
    assert.ok(approx.distances.every((d, i) => i % 10 === 0 || d >= approx.distances[i - 1]!), "each row is nearest first");
  });

  test("exclude drops each query's own label", async () => {
    const queries = big.slice(0, 50 * dim);
    const own = bigLabels.slice(0, 50);
    const found = await index.search(queries, 10, { exclude: own });
    for (let q = 0; q < 50; q++) assert.ok(!found.labels.subarray(q * 10, q * 10 + 10).includes(own[q]!), `query ${q} returned itself`);
    const plain = await index.search(queries, 1);
    assert.deepEqual([...plain.labels], [...own], "without exclude, a point is its own nearest neighbour");
  });
});

describe("NearestIndex writes and errors", () => {
  const dim = 8;
  const rng = new Rng(11);
  const vectors = new Float32Array(500 * dim);
  rng.fillUniform(vectors, -1, 1);
  let index: NearestIndex;

  before(async () => {
    index = await NearestIndex.open({ dim, space: "l2", seed: 3 });
    await index.rebuild(range(0, 500), vectors);
  });
  after(() => index.close());

  test("upsert overwrites a label's vector and grows capacity for new labels", async () => {
    const far = new Float32Array(dim).fill(50);
    await index.upsert(Int32Array.of(7), far);
    assert.equal(index.size, 500);
    const atFar = await index.search(far, 1);
    assert.equal(atFar.labels[0], 7);
    assert.ok(atFar.distances[0]! < 1e-6);
    const atOld = await index.search(row(vectors, dim, 7), 1);
    assert.notEqual(atOld.labels[0], 7);

    const more = new Float32Array(700 * dim);
    rng.fillUniform(more, -1, 1);
    await index.upsert(range(1000, 700), more);
    assert.equal(index.size, 1200);
    assert.equal((await index.search(row(more, dim, 650), 1)).labels[0], 1650);
  });

  test("remove hides a label; removing twice or an unknown label is a no-op; upsert brings it back", async () => {
    const at3 = row(vectors, dim, 3);
    assert.equal((await index.search(at3, 1)).labels[0], 3);
    const sizeBefore = index.size;
    await index.remove(Int32Array.of(3, 3, 999_999));
    assert.equal(index.size, sizeBefore - 1);
    assert.ok(!(await index.search(at3, 20)).labels.includes(3));
    await index.remove(Int32Array.of(3));
    assert.equal(index.size, sizeBefore - 1);
    await index.upsert(Int32Array.of(3), at3);
    assert.equal(index.size, sizeBefore);
    assert.equal((await index.search(at3, 1)).labels[0], 3);
  });

  test("fewer points than k pad with -1 / Infinity; an empty index returns only padding", async () => {
    const small = await NearestIndex.open({ dim: 2, space: "l2" });
    try {
      const empty = await small.search(Float32Array.of(0, 0), 3);
      assert.deepEqual([...empty.labels], [-1, -1, -1]);
      assert.deepEqual([...empty.distances], [Infinity, Infinity, Infinity]);
      await small.upsert(Int32Array.of(5, 6), Float32Array.of(0, 0, 3, 4));
      const found = await small.search(Float32Array.of(0, 0, 3, 4), 3);
      assert.deepEqual([...found.labels], [5, 6, -1, 6, 5, -1]);
      assert.deepEqual([...found.distances], [0, 25, Infinity, 0, 25, Infinity]); // l2 is squared
    } finally {
      await small.close();
    }
  });

  test("bad input rejects with a message naming what is wrong", async () => {
    await assert.rejects(NearestIndex.open({ dim: 0 }), /dim must be an integer ≥ 1, got 0/);
    await assert.rejects(NearestIndex.open({ dim: 4, space: "dot" as "ip" }), /space must be/);
    await assert.rejects(index.upsert(range(0, 2), new Float32Array(3 * dim)), /vectors has 24 floats, expected labels.length \(2\) × dim \(8\) = 16/);
    await assert.rejects(index.rebuild(Int32Array.of(-1), new Float32Array(dim)), /labels\[0\] is -1/);
    await assert.rejects(index.upsert(Int32Array.of(1), new Float32Array(dim).fill(NaN)), /vectors\[0\] is NaN/);
    await assert.rejects(index.search(new Float32Array(dim).fill(Infinity), 1), /NearestIndex.search: queries\[0\] is Infinity/);
    await assert.rejects(index.search(new Float32Array(dim + 1), 1), /queries has 9 floats, not a multiple of dim \(8\)/);
    await assert.rejects(index.search(new Float32Array(dim), 0), /k must be an integer ≥ 1, got 0/);
    await assert.rejects(index.search(new Float32Array(2 * dim), 1, { exclude: Int32Array.of(1) }), /exclude has 1 labels, expected one per query \(2\)/);
    await assert.rejects(index.search([1, 2] as unknown as Float32Array, 1), /queries must be a Float32Array/);
  });

  test("close rejects calls still pending and every call after it", async () => {
    const closing = await NearestIndex.open({ dim });
    const many = new Float32Array(5000 * dim);
    rng.fillUniform(many, -1, 1);
    const pending = assert.rejects(closing.rebuild(range(0, 5000), many), /NearestIndex.rebuild: NearestIndex is closed/);
    await closing.close();
    await pending;
    await assert.rejects(closing.search(new Float32Array(dim), 1), /NearestIndex is closed/);
    await closing.close(); // twice is fine
  });

  test("close while a write runs lets the worker stop on its own: never terminated inside hnswlib (a throwing markDelete then aborted the whole process)", async () => {
    const missing = range(1_000_000, 200_000);
    for (let round = 0; round < 20; round++) {
      const closing = await NearestIndex.open({ dim });
      await closing.upsert(Int32Array.of(1), new Float32Array(dim).fill(1));
      // Removing labels the index lacks makes hnswlib throw into JavaScript once per label.
      const removing = assert.rejects(closing.remove(missing), /NearestIndex is closed/);
      await sleep(round % 5);
      await closing.close();
      await removing;
    }
  });

  test("close ends a long rebuild at its next slice instead of waiting for it", async () => {
    const closing = await NearestIndex.open({ dim, efConstruction: 400 });
    const many = new Float32Array(50_000 * dim);
    rng.fillUniform(many, -1, 1);
    const building = assert.rejects(closing.rebuild(range(0, 50_000), many), /NearestIndex is closed/);
    await sleep(50);
    const started = performance.now();
    await closing.close();
    assert.ok(performance.now() - started < 1000, `close took ${(performance.now() - started).toFixed(0)} ms`);
    await building;
  });
});

test("exactNearest and recallAtK on a small hand-made case", () => {
  const vectors = Float32Array.of(0, 0, 1, 0, 0, 2, 5, 5);
  const labels = Int32Array.of(10, 11, 12, 13);
  const exact = exactNearest(vectors, labels, 2, Float32Array.of(0.9, 0), 3, "l2");
  assert.deepEqual([...exact.labels], [11, 10, 12]);
  assert.deepEqual([...exact.distances].map((d) => Math.round(d * 100) / 100), [0.01, 0.81, 4.81]);
  const padded = exactNearest(vectors.subarray(0, 2), labels.subarray(0, 1), 2, Float32Array.of(1, 1), 2, "cosine");
  assert.deepEqual([...padded.labels], [10, -1]);
  assert.equal(padded.distances[0], 1); // a zero vector has cosine 0 with everything, as in hnswlib
  const half = { ...exact, labels: Int32Array.of(11, 13, 99) };
  assert.equal(recallAtK(half, exact), 1 / 3);
  assert.throws(() => recallAtK({ ...exact, k: 1 }, exact), /shapes differ/);
});

describe("SyncedIndex over a vector store", () => {
  /** Row i at angle 10°·i on the unit circle; the 3 nearest rows of angle 0. */
  const at = (degrees: number) => Float32Array.of(Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180));
  const nearestRows = async (index: SyncedIndex, store: VectorStore) => [...(await index.search(store, at(0), 3)).labels];
  const filled = () => {
    const store = new VectorStore(2);
    for (let i = 0; i < 10; i++) store.set(`k${i}`, at(10 * i), 1);
    return store;
  };

  test("leaves a row with a NaN or infinite value out of the index until it is finite again, by rebuild and in place", async () => {
    const store = filled();
    store.set("k0", Float32Array.of(Number.NaN, 0), 2);
    const index = new SyncedIndex({ seed: 1 });
    try {
      assert.deepEqual(await nearestRows(index, store), [1, 2, 3], "the first search builds from every finite row");
      index.rowChanged(store.set("k0", at(0), 3));
      assert.deepEqual(await nearestRows(index, store), [0, 1, 2], "finite again: in place (one row of ten changed)");
      index.rowChanged(store.set("k1", Float32Array.of(Number.POSITIVE_INFINITY, 0), 4));
      assert.deepEqual(await nearestRows(index, store), [0, 2, 3], "no longer finite: it leaves the index");
    } finally {
      await index.close();
    }
  });

  test("a sync that failed does not fail every later search, nor lose the changes it held: the next one rebuilds the index", async () => {
    const store = filled();
    const index = new SyncedIndex({ seed: 1 });
    const patched = (method: "rebuild" | "upsert", body: () => Promise<void>) => {
      const original = Object.getOwnPropertyDescriptor(NearestIndex.prototype, method)!;
      Object.defineProperty(NearestIndex.prototype, method, { ...original, value: () => Promise.reject(new Error(`${method} failed once`)) });
      return body().finally(() => Object.defineProperty(NearestIndex.prototype, method, original));
    };
    try {
      await patched("rebuild", () => assert.rejects(nearestRows(index, store), /rebuild failed once/));
      assert.deepEqual(await nearestRows(index, store), [0, 1, 2]);
      // Row 0 moves to 35°, past rows 1-3; the in-place update of that change fails.
      index.rowChanged(store.set("k0", at(35), 2));
      await patched("upsert", () => assert.rejects(nearestRows(index, store), /upsert failed once/));
      assert.deepEqual(await nearestRows(index, store), [1, 2, 3], "the failed sync's change is in the rebuilt index");
    } finally {
      await index.close();
    }
  });
});
