/** train() names the option that is wrong before it touches the log, the graph or the model. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { initBackend } from "../graph/gnn/backend.ts";
import { buildModel } from "../graph/models.ts";
import { openTerms, type TermSpec } from "../src/trainer/knowledge.ts";
import { openTermsOffThread } from "../src/trainer/off-thread.ts";
import { train, type TrainerOptions } from "../src/trainer/trainer.ts";

// Validation comes first, so nothing behind these is ever used.
const unused = {} as never;
const base: TrainerOptions = { log: unused, namespace: "ns", graph: unused, model: unused, spec: unused, inputs: unused, steps: 10 };

test("train() rejects bad options with the option's name", async () => {
  const cases: [Partial<TrainerOptions>, RegExp][] = [
    [{ steps: -1 }, /train: steps must be an integer ≥ 0, got -1/],
    [{ checkpointEvery: 0 }, /train: checkpointEvery must be an integer ≥ 1, got 0/],
    [{ patience: 1.5 }, /train: patience must be an integer ≥ 1, got 1.5/],
    [{ learningRate: 0 }, /train: learningRate must be > 0, got 0/],
    [{ run: { program: { name: "p", config: {}, launchedAt: Number.NaN } } }, /train: run.program.launchedAt must be a time \(epoch ms\) not in the future, got NaN/],
    [{ run: { program: { name: "p", config: {}, launchedAt: Date.now() + 3_600_000 } } }, /run.program.launchedAt must be a time/],
  ];
  for (const [options, message] of cases) await assert.rejects(train({ ...base, ...options }), message);
});

test("knowledge terms are refused, naming the term and the setting, before any bank is opened", async () => {
  const cases: [object, RegExp][] = [
    [{ kind: "attention", weight: 1 }, /knowledge term 0 \("attention"\): kind must be "graph" or "pseudo"/],
    [{ kind: "graph", predictions: "p", weight: Number.NaN }, /knowledge term 0 \("graph"\): weight must be a finite number ≥ 0, got NaN/],
    [{ kind: "pseudo", pseudoLabels: "", weight: 1 }, /knowledge term 0 \("pseudo"\): pseudoLabels must name a bank, got ""/],
    [{ kind: "graph", predictions: "p", neighbours: 3, weight: 1 }, /neighbours must name a bank, got 3/],
  ];
  for (const [spec, message] of cases) {
    await assert.rejects(openTerms(unused, "ns", [spec as TermSpec]), message);
    await assert.rejects(openTermsOffThread(unused, "ns", [spec as TermSpec], unused), message);
  }
});

test("train() refuses a spec that does not rebuild the model it trains (makers and replay rebuild it from the spec)", async () => {
  await initBackend();
  const spec = { kind: "mlp" as const, inputDim: 4, hiddenDim: 8, classes: 3, seed: 1 };
  const model = buildModel(spec);
  try {
    await assert.rejects(train({ ...base, model, spec: { ...spec, kind: "gcn" } }), /train: spec \(gcn\) builds weights gcn\/layer0\/kernel \[4, 8\], gcn\/layer1\/kernel \[8, 3\], but the model has mlp\/layer0\/kernel \[4, 8\]/);
    await assert.rejects(train({ ...base, model, spec: { ...spec, hiddenDim: 16 } }), /builds weights mlp\/layer0\/kernel \[4, 16\].*but the model has mlp\/layer0\/kernel \[4, 8\]/);
  } finally {
    model.dispose();
  }
});
