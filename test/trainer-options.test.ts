/** train() names the option that is wrong before it touches the log, the graph or the model. */
import assert from "node:assert/strict";
import { test } from "node:test";
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
