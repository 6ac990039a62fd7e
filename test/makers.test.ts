import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { initBackend } from "../graph/gnn/backend.ts";
import { VectorBankView, bankTopics, decodeEnvelope } from "../src/bank/index.ts";
import { readTopic } from "../src/log/read-all.ts";
import type { Log } from "../src/log/index.ts";
import { NeighbourBankView } from "../src/bank/index.ts";
import { exactNearest, recallAtK } from "../src/bank/nearest/nearest-index.ts";
import { GraphStore } from "../graph/store/graph-store.ts";
import { embeddingsMaker, neighboursMaker, NO_PSEUDO_LABEL, pseudoLabelsMaker, startMaker } from "../src/makers/index.ts";
import { encodeEdge } from "../src/schema/graph-records.ts";
import { graphTopics } from "../src/schema/graph-topics.ts";
import { embeddedBackend, freshNamespace } from "./support/backends.ts";
import { spawnTsx, until, type Child } from "./support/child-process.ts";
import { publishModel, referenceEmbeddings, seedGraph } from "./support/loop-fixtures.ts";

before(() => initBackend());
const backend = embeddedBackend();

async function assertBankMatches(log: Log, namespace: string, seed: number, step: number): Promise<void> {
  const expected = await referenceEmbeddings(log, namespace, seed);
  const view = await VectorBankView.open(log, namespace, "embeddings", { follow: false });
  assert.equal(view.size, expected.size, "one embedding per live node");
  const keys = [...expected.keys()];
  const { values, found, steps } = view.lookup(keys, { steps: true });
  assert.ok(found.every((f) => f === 1));
  assert.ok(steps.every((s) => s === step), `every embedding is from step ${step}`);
  keys.forEach((key, i) => assert.deepEqual(values.subarray(i * 8, (i + 1) * 8), expected.get(key), `embedding of ${key}`));
  await view.close();
}

/** (key, step) pairs written to the history more than once: work done twice. */
async function doubleWrites(log: Log, namespace: string): Promise<number> {
  const seen = new Set<string>();
  let twice = 0;
  for await (const record of readTopic(log, bankTopics(namespace, "embeddings").history)) {
    const step = new DataView(decodeEnvelope(record.value).payload.buffer, decodeEnvelope(record.value).payload.byteOffset + 16, 8).getFloat64(0, true);
    const id = `${new TextDecoder().decode(record.key!)}@${step}`;
    if (seen.has(id)) twice++;
    seen.add(id);
  }
  return twice;
}

describe("maker runtime and the embeddings maker", () => {
  it("embeds every node with the newest checkpoint, then only what a graph change makes stale", async () => {
    const log = await backend.open();
    const ns = freshNamespace();
    await seedGraph(log, ns);
    await publishModel(log, ns, 1, 11);
    const maker = await startMaker(log, ns, embeddingsMaker(), { pollWaitMs: 50 });
    await maker.caughtUp(1);
    assert.equal(maker.stats().computed, 1500);
    await assertBankMatches(log, ns, 11, 1);

    await publishModel(log, ns, 2, 12);
    await maker.caughtUp(2);
    assert.equal(maker.stats().computed, 3000, "a new checkpoint recomputes every node once");
    await assertBankMatches(log, ns, 12, 2);

    const before = maker.stats().computed;
    const cycles = maker.stats().cycles;
    await log.produce(graphTopics(ns).edges, [encodeEdge({ src: "0", dst: "1" })]);
    const deadline = Date.now() + 20_000;
    while (maker.stats().computed === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    while (maker.stats().cycles < cycles + 2) await new Promise((r) => setTimeout(r, 50));
    const recomputed = maker.stats().computed - before;
    assert.ok(recomputed > 2 && recomputed < 300, `a new edge recomputes its endpoints' 2-hop neighbourhood only (recomputed ${recomputed})`);
    await maker.stop();
    await assertBankMatches(log, ns, 12, 2);
    await log.close();
  });

  it("finds each node's nearest neighbours by embedding, and pseudo-labels the confident unlabelled nodes", async () => {
    const log = await backend.open();
    const ns = freshNamespace();
    await seedGraph(log, ns, 1000);
    const makers = [
      await startMaker(log, ns, embeddingsMaker(), { pollWaitMs: 50 }),
      await startMaker(log, ns, neighboursMaker({ k: 5 }), { pollWaitMs: 50 }),
      await startMaker(log, ns, embeddingsMaker({ output: "probabilities" }), { pollWaitMs: 50 }),
      await startMaker(log, ns, pseudoLabelsMaker({ threshold: 0.3 }), { pollWaitMs: 50 }),
    ];
    await publishModel(log, ns, 3, 31);
    await Promise.all(makers.map((m) => m.caughtUp(3)));

    const embeddings = await VectorBankView.open(log, ns, "embeddings", { follow: false });
    const neighbours = await NeighbourBankView.open(log, ns, "neighbours", { follow: false });
    assert.equal(neighbours.size, 1000);
    assert.equal(neighbours.version().minStep, 3);
    const keys = Array.from({ length: 1000 }, (_, i) => String(i));
    const vectors = embeddings.lookup(keys).values;
    const labels = Int32Array.from(keys, Number);
    const exact = exactNearest(vectors, labels, 8, vectors, 6, "cosine");
    // The exact search finds each node itself first (unless it ties); compare the other five.
    const expected = { labels: new Int32Array(5000), distances: new Float32Array(5000), k: 5 };
    keys.forEach((key, q) => expected.labels.set(Array.from(exact.labels.subarray(q * 6, q * 6 + 6)).filter((l) => l !== q).slice(0, 5), q * 5));
    const found = { labels: Int32Array.from(keys.flatMap((key) => neighbours.get(key)!.ids.map(Number))), distances: new Float32Array(5000), k: 5 };
    const recall = recallAtK(found, expected);
    assert.ok(recall >= 0.95, `recall@5 of the neighbour bank against exact search: ${recall}`);

    const predictions = await VectorBankView.open(log, ns, "predictions", { follow: false });
    const pseudo = await VectorBankView.open(log, ns, "pseudo-labels", { follow: false });
    const graph = await GraphStore.open(log, ns);
    const train = graph.masks().train;
    let labelled = 0;
    for (const key of keys) {
      const index = graph.indexOf(key);
      if (train[index] === 1) {
        assert.equal(pseudo.stepOf(key), -1, `training node ${key} gets no pseudo-label`);
        continue;
      }
      const probs = predictions.lookup([key]).values;
      const best = probs.indexOf(Math.max(...probs));
      const [label, confidence] = pseudo.lookup([key]).values;
      assert.ok(Math.abs(confidence! - probs[best]!) < 1e-6);
      assert.equal(label, probs[best]! >= 0.3 ? best : NO_PSEUDO_LABEL);
      if (label !== NO_PSEUDO_LABEL) labelled++;
    }
    assert.ok(labelled > 0, "some nodes were confident enough");
    await Promise.all(makers.map((m) => m.stop()));
    await Promise.all([embeddings, neighbours, predictions, pseudo].map((v) => v.close()));
    await log.close();
  });

  it("splits the keys between two makers in one group, and recovers from a SIGKILL without losing work", async () => {
    const log = await backend.open();
    const ns = freshNamespace();
    await seedGraph(log, ns, 3000);
    const a = child(backend.url, ns, "100");
    const b = child(backend.url, ns, "100");
    await until(() => owned(a).length > 0 && owned(b).length > 0 && new Set([...owned(a), ...owned(b)]).size === 4 && owned(a).length + owned(b).length === 4, "the two makers to split the 4 node partitions");
    await publishModel(log, ns, 1, 21);
    await until(() => caught(a, 1) && caught(b, 1), "both makers to catch up with step 1");
    const [fromA, fromB] = [computed(a), computed(b)];
    assert.ok(fromA > 0 && fromB > 0, `both makers worked (${fromA} and ${fromB})`);
    assert.equal(fromA + fromB, 3000, "together they embedded every node exactly once");
    await assertBankMatches(log, ns, 21, 1);

    // Kill one maker in the middle of step 2; the survivor takes its partitions over.
    await publishModel(log, ns, 2, 22);
    await until(() => batches(a).length >= 3 + batchesAt(a, 1), "maker a to write a few batches of step 2");
    assert.ok(!caught(a, 2), "a is killed before it finishes step 2");
    a.proc.kill("SIGKILL");
    await a.exited;
    await until(() => caught(b, 2, "0,1,2,3"), "maker b to finish step 2 alone after a's session expired", 60_000);
    await assertBankMatches(log, ns, 22, 2);
    b.proc.kill("SIGTERM");
    assert.equal(await b.exited, 0);
    const twice = await doubleWrites(log, ns);
    assert.ok(twice <= 100, `at most the batch in flight when a died is redone (${twice} keys)`);
    await log.close();
  });
});

const child = (...args: string[]): Child => spawnTsx(join(import.meta.dirname, "support", "maker-child.ts"), ...args);

const owned = (c: Child) => c.lines.filter((l) => l.startsWith("owns ")).at(-1)?.slice(5).split(",").filter(Boolean) ?? [];
const batches = (c: Child) => c.lines.filter((l) => l.startsWith("batch "));
const computed = (c: Child) => Number(batches(c).at(-1)?.slice(6) ?? 0);
const caught = (c: Child, step: number, partitions?: string) => c.lines.some((l) => l.startsWith(`caught-up ${step} `) && (partitions === undefined || l === `caught-up ${step} ${partitions}`));
const batchesAt = (c: Child, step: number) => batches({ ...c, lines: c.lines.slice(0, c.lines.findIndex((l) => l.startsWith(`caught-up ${step} `))) }).length;

