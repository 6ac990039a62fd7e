/**
 * Replay: the semi-supervised loop runs with its makers asynchronous, then its trainer is replayed
 * from the topics alone, bit for bit, on both backends; also after the bank topics were compacted
 * and after the graph changed; and refused, clearly, when history it needs is gone.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import { graphSource, runSemiSupervised, trainWithKnowledge, type KnowledgeConfig } from "../examples/semi-supervised/loop.ts";
import { writeGraph } from "../connectors/index.ts";
import { graphFingerprint } from "../graph/store/fingerprint.ts";
import { GraphStore } from "../graph/store/graph-store.ts";
import type { Log } from "../src/log/index.ts";
import { readManifests, writeManifest, type RunManifest } from "../src/replay/manifest.ts";
import { StepClaims } from "../src/replay/claims.ts";
import { replayRun } from "../src/replay/replay.ts";
import type { Assignment, WorkerData, WorkerMessage } from "../src/replay/replay-worker.ts";
import { bundledWorkerSource } from "../src/bundled-worker.ts";
import { replayProblems, ReplayRefused } from "../src/replay/retention.ts";
import { SegmentReplayer } from "../src/replay/segment.ts";
import { readTrainerStates, trainerStateTopic } from "../src/trainer/state.ts";
import { edgeTombstone, encodeEdge } from "../src/schema/graph-records.ts";
import { graphTopics } from "../src/schema/graph-topics.ts";
import { embeddedBackend, kafkaBackend, withLog, type Backend } from "./support/backends.ts";
import { runTsx } from "./support/child-process.ts";

const CLI = new URL("../bin/carls.js", import.meta.url).pathname;

/** Every maker and every term, so that vector and neighbour banks are both replayed. */
const EVERY_MAKER: KnowledgeConfig = { graphWeight: 1, dynamicNeighbours: true, k: 10, pseudoWeight: 1, pseudoThreshold: 0.6, temperature: 0.5 };
const BANKS = ["predictions", "embeddings", "neighbours", "pseudo-labels"];

async function recordedRun(log: Log, namespace: string): Promise<RunManifest> {
  await runSemiSupervised({ log, namespace, dataset: "synthetic", model: "gcn", seed: 3, steps: 40, checkpointEvery: 5, knowledge: EVERY_MAKER });
  const runs = await readManifests(log, namespace);
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.state, "completed");
  return runs[0]!;
}

for (const backend of [embeddedBackend(), await kafkaBackend()] as Backend[]) {
  describe(`replay on ${backend.name}`, { timeout: 600_000 }, () => {
    it("replays a run with asynchronous makers bit for bit, also after its bank topics were compacted", async () => {
      await withLog(backend, "replay", async (log, namespace) => {
        const run = await recordedRun(log, namespace);
        assert.ok(run.topics.some((t) => t.topic === `${namespace}.kb.neighbours.history`), "the manifest names the neighbour bank's history");
        const first = await replayRun({ log, namespace, runId: run.id, parallel: 3 });
        assert.equal(first.identical, true, JSON.stringify(first.firstDivergence));
        assert.equal(first.steps, 40);
        assert.equal(first.checkpointsCompared, 9, "step 0 and every 5 steps");
        const inOrder = await replayRun({ log, namespace, runId: run.id, parallel: 1 });
        assert.deepEqual([inOrder.identical, inOrder.segments, inOrder.threads, inOrder.checkpointsCompared], [true, 1, 1, 9]);
        // More threads than cores and ranges cut fine: whoever holds a range, every step is replayed once.
        const crowded = await replayRun({ log, namespace, runId: run.id, parallel: 5 });
        assert.deepEqual([crowded.identical, crowded.steps, crowded.checkpointsCompared], [true, 40, 9], JSON.stringify(crowded));

        let removed = 0;
        for (const bank of BANKS) removed += (await log.compact(`${namespace}.kb.${bank}`)).removed;
        assert.ok(removed > 0, "compaction removed superseded bank values");
        const afterCompaction = await replayRun({ log, namespace, runId: run.id });
        assert.equal(afterCompaction.identical, true, JSON.stringify(afterCompaction.firstDivergence));
      });
    });

    it("replays the original run after the graph changed, and refuses once compaction erased the graph it read", async () => {
      await withLog(backend, "graph", async (log, namespace) => {
        const run = await recordedRun(log, namespace);
        const before = await GraphStore.open(log, namespace);
        const { rowPtr, colIdx } = before.snapshot();
        const [a, b] = [before.idOf(0), before.idOf(colIdx[rowPtr[0]!]!)];
        const topics = graphTopics(namespace);
        // A new edge, a deleted edge, and an existing edge written again with a weight.
        await log.produce(topics.edges, [encodeEdge({ src: "1", dst: "2998" }), edgeTombstone(a, b)]);
        const [c, d] = [before.idOf(5), before.idOf(colIdx[rowPtr[5]!]!)];
        await log.produce(topics.edges, [encodeEdge({ src: c, dst: d, weight: 2 })]);
        const after = await GraphStore.open(log, namespace);
        assert.notEqual(graphFingerprint(after), run.graph.fingerprint, "the graph did change");

        const replay = await replayRun({ log, namespace, runId: run.id });
        assert.equal(replay.identical, true, JSON.stringify(replay.firstDivergence));

        await log.compact(topics.edges);
        await assert.rejects(replayRun({ log, namespace, runId: run.id }), (error: Error) => error instanceof ReplayRefused && /graph topics up to the recorded offsets no longer hold the graph it trained on/.test(error.message));
      });
    });
  });
}

describe("replay in segments", { timeout: 300_000 }, () => {
  it("resumes from a checkpoint's weights and trainer state exactly: segments replayed apart equal the run", async () => {
    await withLog(embeddedBackend(), "segments", async (log, namespace) => {
      const run = await recordedRun(log, namespace);
      const range = run.topics.find((t) => t.topic === trainerStateTopic(namespace))!;
      const states = await readTrainerStates(log, namespace, range.from[0]!, range.to[0]!);
      assert.deepEqual([...states.keys()], [5, 10, 15, 20, 25, 30, 35, 40], "a trainer state with every checkpoint after step 0");
      const replayer = await SegmentReplayer.open(log, run);
      try {
        // Out of order on one replayer, as a thread that takes a second range does: each run opens its own bank views.
        const late = await replayer.run(25, states.get(25), StepClaims.create(25, 40));
        const early = await replayer.run(0, undefined, StepClaims.create(0, 10));
        const middle = await replayer.run(10, states.get(10), StepClaims.create(10, 25));
        for (const segment of [early, middle, late]) assert.equal(segment.divergence, undefined, JSON.stringify(segment.divergence));
        assert.deepEqual([early, middle, late].map((s) => [s.start, s.steps, s.compared]), [[0, 10, 3], [10, 25, 3], [25, 40, 3]]);
        // Step 40's best is the run's best or later than step 25's; either way it is what the run recorded.
        assert.equal(late.best.step, states.get(40)!.best.step);
      } finally {
        replayer.close();
      }
      // A worker that cannot be handed the run stops at once; this thread replays it all.
      const handover = Object.getOwnPropertyDescriptor(SegmentReplayer.prototype, "handover")!;
      const failing = () => {
        throw new Error("no handover");
      };
      Object.defineProperty(SegmentReplayer.prototype, "handover", { ...handover, value: failing });
      try {
        const replay = await replayRun({ log, namespace, runId: run.id, parallel: 2 });
        assert.equal(replay.identical, true, JSON.stringify(replay.firstDivergence));
        assert.deepEqual([replay.segments, replay.threads], [1, 1]);
        assert.match(replay.threadsNote ?? "", /the run could not be handed to a worker thread: no handover/);
      } finally {
        Object.defineProperty(SegmentReplayer.prototype, "handover", handover);
      }
    });
  });

  it("hands out steps once: claims end where the coordinator splits them", () => {
    const claims = StepClaims.create(0, 10);
    assert.equal(claims.claim(1), true);
    assert.equal(claims.shrink(0, 5), false, "a split must know the steps claimed so far");
    assert.equal(claims.shrink(1, 5), true);
    for (let step = 2; step <= 5; step++) assert.equal(claims.claim(step), true);
    assert.equal(claims.claim(6), false, "step 6 was handed away");
    assert.equal(claims.shrink(5, 7), false, "a split cannot give steps back");
    assert.throws(() => claims.claim(8), /step 8 claimed after step 5/);
  });

  it("replays in order on one thread when the trainer state is gone, and says why", async () => {
    await withLog(embeddedBackend(), "stateless", async (log, namespace) => {
      const run = await recordedRun(log, namespace);
      await log.deleteTopic(trainerStateTopic(namespace));
      assert.deepEqual(await replayProblems(log, run), [], "the trainer state only speeds replay up");
      const replay = await replayRun({ log, namespace, runId: run.id, parallel: 2 });
      assert.equal(replay.identical, true, JSON.stringify(replay.firstDivergence));
      assert.deepEqual([replay.segments, replay.threads], [1, 1]);
      assert.match(replay.threadsNote ?? "", new RegExp(`its trainer state is gone \\(topic ${namespace}\\.trainer\\.state was deleted`));
    });
  });
});

describe("replay refuses and reports", { timeout: 300_000 }, () => {
  it("refuses, naming the topic, when a bank's history was deleted", async () => {
    const backend = embeddedBackend();
    await withLog(backend, "gone", async (log, namespace) => {
      const run = await recordedRun(log, namespace);
      assert.deepEqual(await replayProblems(log, run), []);
      const runs = (args: string[]) => runTsx(CLI, [...args, "--log", backend.url, "--namespace", namespace], 120_000);
      assert.match(await runs(["runs"]), new RegExp(`^${run.id}  completed .* gcn  tfjs \\w+  test \\d+\\.\\d %, 40 steps\\n  replayable; needs ${namespace}\\.graph\\.nodes up to `));
      assert.match(await runs(["replay", run.id]), /identical: every step's loss, terms, accuracy and bank versions, every checkpoint's weights and the result match bit for bit/);
      await writeManifest(log, { ...run, versions: { ...run.versions, carls: "0.0.1" } });
      assert.match(await runs(["replay", run.id]), /\nnote: the run was recorded by carls 0\.0\.1, this is carls \d+\.\d+\.\d+; bit-identical results are only expected from the same version/);
      await log.deleteTopic(`${namespace}.kb.pseudo-labels.history`);
      const problems = await replayProblems(log, run);
      assert.equal(problems.length, 1);
      assert.match(await runs(["runs"]), new RegExp(`NOT replayable:\\n    - topic ${namespace}\\.kb\\.pseudo-labels\\.history was deleted`));
      await assert.rejects(runs(["replay", run.id]), /carls: run .* cannot be replayed exactly:\n  - topic .*pseudo-labels\.history was deleted/);
      await assert.rejects(
        replayRun({ log, namespace, runId: run.id }),
        (error: Error) => error instanceof ReplayRefused && error.message.includes(`topic ${namespace}.kb.pseudo-labels.history was deleted; the run read or wrote offsets [0] 0..`),
      );
    });
  });

  it("replays a run that was stopped before its last step, up to where it stopped", async () => {
    await withLog(embeddedBackend(), "stopped", async (log, namespace) => {
      await writeGraph({ log, namespace, source: graphSource("synthetic"), progress: false });
      const stop = new AbortController();
      await trainWithKnowledge(log, namespace, { dataset: "synthetic", model: "mlp", seed: 1, steps: 100 }, { signal: stop.signal, onStep: (r) => r.step === 12 && stop.abort() });
      const [run] = await readManifests(log, namespace);
      assert.equal(run!.state, "stopped");
      assert.equal(run!.result!.steps, 12);
      const replay = await replayRun({ log, namespace, runId: run!.id });
      assert.equal(replay.identical, true, JSON.stringify(replay.firstDivergence));
      assert.equal(replay.steps, 12);
    });
  });

  it("a worker told to stop while it opens the run stops there, on its own, without asking for a range", async () => {
    await withLog(embeddedBackend(), "stop-worker", async (log) => {
      // The manifest is never read: a worker that went on to open the run with it would fail.
      const worker = new Worker(await bundledWorkerSource(new URL("../src/replay/replay-worker.ts", import.meta.url)), { eval: true, workerData: { location: log.location, manifest: {} as RunManifest } satisfies WorkerData });
      const messages: WorkerMessage[] = [];
      worker.on("message", (message: WorkerMessage) => messages.push(message));
      const exited = once(worker, "exit");
      worker.postMessage({} satisfies Assignment);
      assert.deepEqual(await exited, [0]);
      assert.deepEqual(messages, []);
    });
  });

  it("reports the first divergence when the replayed trainer computes something else", async () => {
    await withLog(embeddedBackend(), "diverge", async (log, namespace) => {
      const run = await recordedRun(log, namespace);
      // The same run, said to have trained at another learning rate: step 1's loss is the same (taken before the update), what follows the update is not.
      await writeManifest(log, { ...run, trainer: { ...run.trainer, learningRate: 0.02 } });
      const replay = await replayRun({ log, namespace, runId: run.id });
      assert.equal(replay.identical, false);
      const { step, what } = replay.firstDivergence!;
      // Accuracy is measured after the update: step 1's almost surely differs; if it happened to match, step 2's loss cannot.
      assert.ok((step === 1 && /^accuracy\.(train|val)$/.test(what)) || (step === 2 && what === "loss"), JSON.stringify(replay.firstDivergence));
      assert.notEqual(replay.firstDivergence!.original, replay.firstDivergence!.replayed);
    });
  });
});
