import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { NeighbourBankView, VectorBankView } from "../src/bank/index.ts";
import { readTopic } from "../src/log/read-all.ts";
import { metricsTopic, type StepRecord } from "../src/trainer/trainer.ts";
import { GraphStore } from "../graph/store/graph-store.ts";
import { runSemiSupervised, type KnowledgeConfig } from "../examples/semi-supervised/loop.ts";
import { embeddedBackend, freshNamespace, kafkaBackend } from "./support/backends.ts";
import { runTsx } from "./support/child-process.ts";

const dec = new TextDecoder();
/** Not a recipe for accuracy: every maker and every term in one short run. */
const EVERY_MAKER: KnowledgeConfig = { graphWeight: 1, dynamicNeighbours: true, k: 10, pseudoWeight: 1, pseudoThreshold: 0.6, temperature: 0.5 };

for (const backend of [embeddedBackend(), await kafkaBackend()]) {
  describe(`semi-supervised example on ${backend.name}`, () => {
    it("runs the whole loop: makers fill every bank while the trainer reads them each step", async () => {
      const log = await backend.open();
      const namespace = freshNamespace("semi");
      try {
        const steps: StepRecord[] = [];
        const report = await runSemiSupervised({ log, namespace, dataset: "synthetic", model: "gcn", seed: 0, steps: 30, checkpointEvery: 5, knowledge: EVERY_MAKER, staleness: 1, onStep: (s) => steps.push(s) });
        assert.equal(report.result.steps, 30);
        assert.equal(report.result.checkpoints, 7, "checkpoints at step 0 and every 5 steps");
        assert.ok(report.result.accuracy.test > 0.5, `it learned something (test accuracy ${report.result.accuracy.test})`);

        const graph = await GraphStore.open(log, namespace);
        const nodes = graph.numNodes;
        for (const bank of ["predictions", "embeddings"]) {
          const view = await VectorBankView.open(log, namespace, bank, { follow: false });
          assert.equal(view.size, nodes, `${bank} holds every node`);
          assert.ok(view.version().minStep >= 5, `${bank} came from a trained checkpoint (min step ${view.version().minStep})`);
          await view.close();
        }
        const neighbours = await NeighbourBankView.open(log, namespace, "neighbours", { follow: false });
        assert.equal(neighbours.size, nodes);
        assert.equal(neighbours.get("0")!.ids.length, 10);
        assert.ok(!neighbours.get("0")!.ids.includes("0"), "a node is not its own neighbour");
        await neighbours.close();

        const late = steps.filter((s) => s.step > 15);
        assert.ok(late.every((s) => s.terms.graph && s.terms.graph.size > 0), "every late step used graph knowledge");
        assert.ok(late.some((s) => s.terms.pseudo && s.terms.pseudo.size > 0), "pseudo-labels reached the trainer");
        for (const s of late) {
          const pseudo = s.banks.find((b) => b.bank.endsWith(".kb.pseudo-labels"));
          const lastCheckpoint = Math.floor((s.step - 1) / 5) * 5;
          assert.ok(pseudo && pseudo.minStep >= lastCheckpoint - 5, `step ${s.step} waited for pseudo-labels at most one checkpoint old (had ${pseudo?.minStep})`);
        }
        const predictionSteps = steps.map((s) => s.banks.find((b) => b.bank.endsWith(".kb.predictions"))?.maxStep ?? -Infinity);
        assert.ok(predictionSteps.at(-1)! > predictionSteps[0]!, "the knowledge got fresher during training");
        const recorded: StepRecord[] = [];
        for await (const record of readTopic(log, metricsTopic(namespace))) recorded.push(JSON.parse(dec.decode(record.value!)) as StepRecord);
        assert.deepEqual(recorded.map((r) => r.step), steps.map((s) => s.step), "every step's metrics and bank versions are in the metrics topic");
        assert.deepEqual(recorded.at(-1)!.banks, JSON.parse(JSON.stringify(steps.at(-1)!.banks)));
      } finally {
        await log.close();
      }
    });
  });
}

it("examples/semi-supervised: the command line runs the loop beside the baseline over seeds and reports both", async () => {
  const dir = mkdtempSync(join(tmpdir(), "carls-semi-"));
  try {
    const output = await runTsx(resolve(import.meta.dirname, "../examples/semi-supervised/index.ts"), ["--dataset", "synthetic", "--model", "mlp", "--seeds", "1", "--steps", "40", "--dir", join(dir, "store")], 300_000);
    assert.match(output, /without knowledge: test accuracy \d+\.\d ± 0\.0/);
    assert.match(output, /with the bank: +test accuracy \d+\.\d ± 0\.0/);
    assert.match(output, /maker predictions: \d+ keys computed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("carls demo (npm run demo): the program without and with the bank, then both accuracies", async () => {
  const dir = mkdtempSync(join(tmpdir(), "carls-demo-"));
  try {
    const output = await runTsx(resolve(import.meta.dirname, "../bin/carls.js"), ["demo", "--steps", "40", "--dir", join(dir, "store")], 300_000);
    assert.match(output, /without knowledge +\d+\.\d %/);
    assert.match(output, /with the bank +\d+\.\d %/);
    const inspect = await runTsx(resolve(import.meta.dirname, "../bin/carls.js"), ["bank", "inspect", "predictions", "--log", `embedded:${join(dir, "store")}`, "--namespace", "demo-bank", "--key", "0", "--nearest", "3"], 60_000);
    assert.match(inspect, /keys: +3000/);
    assert.match(inspect, /0 \(step \d+\): \[/);
    assert.equal(inspect.split("distance").length - 1, 3, inspect);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
