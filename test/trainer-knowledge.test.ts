/**
 * Knowledge terms with their constants built off the trainer's thread give, for the bank versions
 * they report, exactly what the same terms built on the trainer's thread give at those versions
 * (which is what replay rebuilds), and they follow the banks as makers write new versions.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { syntheticSource, writeGraph } from "../connectors/index.ts";
import { initBackend } from "../graph/gnn/backend.ts";
import * as tf from "../graph/gnn/tf.ts";
import { GraphStore } from "../graph/store/graph-store.ts";
import { BankWriter } from "../src/bank/index.ts";
import type { Log } from "../src/log/index.ts";
import { encodeNode, nodeTombstone } from "../src/schema/graph-records.ts";
import { ensureGraphTopics } from "../src/schema/graph-topics.ts";
import { openTerms, type KnowledgeTerm, type TermSpec } from "../src/trainer/knowledge.ts";
import { openTermsOffThread } from "../src/trainer/off-thread.ts";
import { embeddedBackend, kafkaBackend, withLog, type Backend } from "./support/backends.ts";

const SPECS: TermSpec[] = [
  { kind: "graph", predictions: "predictions", neighbours: "neighbours", weight: 1, targets: { align: true, temperature: 0.5 } },
  { kind: "pseudo", pseudoLabels: "pseudo-labels", weight: 1 },
];
const CLASSES = 4;

async function writeVersion(log: Log, namespace: string, ids: string[], step: number): Promise<void> {
  let seed = step * 7919 + 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const writers = [await BankWriter.open(log, namespace, "predictions"), await BankWriter.open(log, namespace, "neighbours"), await BankWriter.open(log, namespace, "pseudo-labels")] as const;
  await writers[0].upsertVectors(ids.map((key) => {
    const p = Float32Array.from({ length: CLASSES }, () => random() + 0.01);
    const sum = p.reduce((a, b) => a + b, 0);
    return { key, values: p.map((x) => x / sum) };
  }), step);
  await writers[1].upsertNeighbours(ids.map((key) => ({ key, neighbours: { ids: Array.from({ length: 5 }, () => ids[Math.floor(random() * ids.length)]!), distances: new Float32Array(5) } })), step);
  await writers[2].upsertVectors(ids.map((key) => ({ key, values: Float32Array.of(random() < 0.5 ? Math.floor(random() * CLASSES) : -1, 0.9) })), step);
}

/** Each term's size and loss on fixed logits: equal values mean equal constants. */
function evaluate(terms: readonly KnowledgeTerm[], graph: GraphStore, logits: tf.Tensor2D): Array<[number, number] | undefined> {
  return terms.map((term) => {
    const step = term.prepare(graph);
    return step ? [step.size, step.loss(logits).dataSync()[0]!] : undefined;
  });
}

for (const backend of [embeddedBackend(), await kafkaBackend()] as Backend[]) {
  describe(`knowledge off the trainer's thread on ${backend.name}`, { timeout: 300_000 }, () => {
    it("reports the versions its constants came from, equal to the same terms built here at those versions, and follows new versions", async () => {
      await initBackend();
      await withLog(backend, "offthread", async (log, namespace) => {
        await writeGraph({ log, namespace, source: syntheticSource({ seed: 2, nodes: 300, classes: CLASSES, avgDegree: 4, homophily: 0.8, featureDim: 8 }), progress: false });
        const graph = await GraphStore.open(log, namespace);
        const ids = Array.from({ length: graph.numNodes }, (_, i) => graph.idOf(i));
        const logits = tf.randomNormal([graph.numNodes, CLASSES], 0, 1, "float32", 5) as tf.Tensor2D;
        await writeVersion(log, namespace, ids, 1);
        const off = await openTermsOffThread(log, namespace, SPECS, graph, { pollWaitMs: 20 });
        try {
          for (const step of [1, 2, 3]) {
            if (step > 1) await writeVersion(log, namespace, ids, step);
            for (const bank of ["predictions", "neighbours", "pseudo-labels"]) await off.freshness(bank).awaitVersion(step, { minKeys: ids.length, timeoutMs: 60_000 });
            const offVersions = off.terms.map((t) => t.versions());
            const offValues = evaluate(off.terms, graph, logits);
            // The same terms on this thread, over replay views moved to the reported versions.
            const here = await openTerms(log, namespace, SPECS, { replay: true });
            try {
              for (const version of offVersions.flat()) await here.views.get(version.bank.split(".kb.")[1]!)!.replayTo(version.position);
              assert.deepEqual(here.terms.map((t) => t.versions()), offVersions, `step ${step}: the same versions`);
              assert.deepEqual(evaluate(here.terms, graph, logits), offValues, `step ${step}: the same constants`);
            } finally {
              await here.close();
            }
            assert.ok(offValues.every((v) => v !== undefined && v[0] > 0), `step ${step}: both terms have constants`);
            assert.ok(offVersions.flat().every((v) => v.minStep === step && v.size === ids.length), `step ${step}: every key at version ${step}`);
          }
        } finally {
          await off.close();
          logits.dispose();
        }
        assert.throws(() => off.terms[0]!.prepare(graph), /knowledge worker exited/, "a closed set refuses to prepare");
      });
    });

    it("fails the trainer's next step, naming the bank, when a bank it reads can no longer be followed", async () => {
      await withLog(backend, "offthread-fail", async (log, namespace) => {
        await writeGraph({ log, namespace, source: syntheticSource({ seed: 2, nodes: 100, classes: CLASSES, avgDegree: 4, homophily: 0.8, featureDim: 8 }), progress: false });
        const graph = await GraphStore.open(log, namespace);
        await writeVersion(log, namespace, Array.from({ length: graph.numNodes }, (_, i) => graph.idOf(i)), 1);
        const off = await openTermsOffThread(log, namespace, SPECS, graph, { pollWaitMs: 20 });
        try {
          assert.ok(off.terms[1]!.prepare(graph), "constants before");
          await log.deleteTopic(`${namespace}.kb.pseudo-labels`);
          const failed = async (): Promise<Error> => {
            for (const started = performance.now(); performance.now() - started < 60_000; await new Promise((r) => setTimeout(r, 20))) {
              try {
                off.terms[1]!.prepare(graph);
              } catch (error) {
                return error as Error;
              }
            }
            assert.fail("no failure within 60 s");
          };
          assert.match((await failed()).message, new RegExp(`knowledge worker failed: .*${namespace}\\.kb\\.pseudo-labels`));
        } finally {
          await off.close();
        }
      });
    });
  });
}

describe("graph term", () => {
  it("resolves neighbour ids to the node indices graph.indexOf gives: non-ASCII, a leading U+FEFF, deleted and absent ids", () =>
    withLog(embeddedBackend(), "resolve", async (log, namespace) => {
      const nodeIds = ["a", "b", "日本", "\uFEFFc", "c", "gone"];
      const topics = await ensureGraphTopics(log, namespace, 1);
      await log.produce(topics.nodes, nodeIds.map((id) => encodeNode({ id, label: 0, split: "train" })));
      await log.produce(topics.nodes, [nodeTombstone("gone")]);
      const graph = await GraphStore.open(log, namespace, { partitions: 1 });
      const predictions = await BankWriter.open(log, namespace, "predictions");
      await predictions.upsertVectors(nodeIds.map((key) => ({ key, values: Float32Array.of(0.5, 0.5) })), 1);
      const neighbours = await BankWriter.open(log, namespace, "neighbours");
      const listed = ["\uFEFFc", "b", "日本", "absent", "gone", "c"];
      await neighbours.upsertNeighbours([{ key: "a", neighbours: { ids: listed, distances: new Float32Array(listed.length) } }], 1);
      const opened = await openTerms(log, namespace, [{ kind: "graph", predictions: "predictions", neighbours: "neighbours", graphEdges: false, weight: 1 }]);
      try {
        const constants = opened.terms[0]!.constants(graph);
        assert.equal(constants?.kind, "graph");
        const expected = listed.map((id) => graph.indexOf(id)).filter((index) => index >= 0);
        assert.deepEqual(new Set(expected).size, 5, "five distinct nodes, the deleted one keeping its index");
        assert.deepEqual([...(constants as { neighbours: Int32Array }).neighbours], expected);
        assert.deepEqual([...(constants as { rows: Int32Array }).rows], expected.map(() => graph.indexOf("a")));
      } finally {
        await opened.close();
      }
    }));
});
