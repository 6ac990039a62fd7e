import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { csvSource, progressTopic, readGraph, readTopic, syntheticEvents, syntheticSource, writeGraph, type GraphSource } from "../connectors/index.ts";
import { openEmbeddedLog, type Log } from "../src/log/index.ts";
import { graphTopics } from "../src/schema/index.ts";

const dir = mkdtempSync(join(tmpdir(), "carls-conn-writer-"));
let log: Log;
before(async () => {
  log = await openEmbeddedLog({ dir: join(dir, "store"), maintenanceIntervalMs: 0, durability: "process" });
});
after(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

async function storedRecords(namespace: string): Promise<number> {
  const topics = graphTopics(namespace);
  let total = 0;
  for (const topic of [topics.nodes, topics.edges]) for (const p of await log.offsets(topic)) total += p.highWatermark;
  return total;
}

async function progressRecords(namespace: string) {
  const dec = new TextDecoder();
  const values = [];
  for await (const record of readTopic(log, progressTopic(namespace))) values.push(JSON.parse(dec.decode(record.value!)) as { rowsDone: number; complete: boolean });
  return values;
}

describe("graph writer restarts", () => {
  it("resumes a CSV ingest stopped after two batches, writing each row once", async () => {
    const nodes = join(dir, "nodes.csv");
    const edges = join(dir, "edges.csv");
    writeFileSync(nodes, "id,label\n" + Array.from({ length: 12 }, (_, i) => `n${i},${i % 3}\n`).join(""));
    writeFileSync(edges, Array.from({ length: 11 }, (_, i) => `n${i},n${i + 1}\n`).join(""));
    const run = (maxBatches?: number) => writeGraph({ log, namespace: "restart", source: csvSource({ nodes, edges }), batchSize: 5, progress: false, ...(maxBatches ? { maxBatches } : {}) });

    const first = await run(2);
    assert.equal(first.complete, false);
    assert.equal(first.rowsDone, 10);
    assert.equal(await storedRecords("restart"), 10);

    const second = await run();
    assert.equal(second.complete, true);
    assert.equal(second.resumedFrom, 10);
    assert.equal(second.rowsDone, 23);
    assert.equal(second.nodes, 12);
    assert.equal(second.edges, 11);
    assert.equal(await storedRecords("restart"), 23);

    const graph = await readGraph(log, "restart");
    assert.deepEqual([...graph.nodes.keys()].sort(), Array.from({ length: 12 }, (_, i) => `n${i}`).sort());
    assert.equal(graph.edges.size, 11);
    assert.deepEqual(
      (await progressRecords("restart")).map((p) => [p.rowsDone, p.complete]),
      [[5, false], [10, false], [15, false], [20, false], [23, true]],
    );

    const third = await run();
    assert.equal(third.batches, 0);
    assert.equal(await storedRecords("restart"), 23);
  });

  it("stops on abort without writing the unfinished batch, then resumes the synthetic source", async () => {
    const options = { seed: 3, nodes: 300, classes: 3, avgDegree: 6, homophily: 0.8, featureDim: 4 };
    const total = [...syntheticEvents(options)].length;
    const controller = new AbortController();
    const inner = syntheticSource(options);
    let yielded = 0;
    const aborting: GraphSource = {
      ...inner,
      async *events(from, signal) {
        for await (const event of inner.events(from, signal)) {
          if (++yielded === 260) controller.abort();
          yield event;
        }
      },
    };
    const first = await writeGraph({ log, namespace: "abort", source: aborting, batchSize: 100, signal: controller.signal, progress: false });
    assert.equal(first.complete, false);
    assert.equal(first.rowsDone, 200);
    assert.equal(await storedRecords("abort"), 200);

    const second = await writeGraph({ log, namespace: "abort", source: syntheticSource(options), batchSize: 100, progress: false });
    assert.equal(second.complete, true);
    assert.equal(second.rowsDone, total);
    assert.equal(await storedRecords("abort"), total);
    const graph = await readGraph(log, "abort");
    assert.equal(graph.nodes.size, 300);
    const expectedEdges = new Set([...syntheticEvents(options)].flatMap((e) => (e.kind === "edge" ? [`${e.src}\u0000${e.dst}`] : [])));
    assert.deepEqual(new Set(graph.edges.keys()), expectedEdges);
  });
});
