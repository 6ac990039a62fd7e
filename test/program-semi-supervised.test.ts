/**
 * The semi-supervised program under every launcher: equivalent results, manifests dated from the
 * launch (the processes run replayed bit for bit); a SIGKILLed maker process restarted by its
 * policy; SIGTERM stopping a running program within its grace period, leaving no half-written record.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { VectorBankView } from "../src/bank/vector-view.ts";
import type { Log } from "../src/log/index.ts";
import { readTopic } from "../src/log/read-all.ts";
import { launch, readStatus, type ProgramOutcome } from "../src/program/index.ts";
import { launchToEndSeconds, readManifests } from "../src/replay/manifest.ts";
import { replayRun } from "../src/replay/replay.ts";
import { checkpointTopic } from "../src/schema/checkpoint-topic.ts";
import { decodeChunk } from "../src/schema/checkpoint.ts";
import { metricsTopic, readTrainResult, type TrainResult } from "../src/trainer/trainer.ts";
import { embeddedBackend, freshNamespace } from "./support/backends.ts";

const PROGRAM = join(import.meta.dirname, "../examples/semi-supervised/program.ts");
const CLI = join(import.meta.dirname, "../bin/carls.js");
const NODES = 3000;
const quiet = () => {};

/** Every checkpoint whole (all its chunks), every metrics record JSON, every bank value decodable: what a clean stop leaves. */
async function assertNoHalfWrittenRecords(log: Log, namespace: string): Promise<{ checkpoints: number; steps: number }> {
  const chunks = new Map<number, Set<number>>();
  const expected = new Map<number, number>();
  for await (const record of readTopic(log, checkpointTopic(namespace))) {
    const chunk = decodeChunk(record.value);
    chunks.set(chunk.step, (chunks.get(chunk.step) ?? new Set()).add(chunk.chunk));
    expected.set(chunk.step, chunk.chunks);
  }
  for (const [step, seen] of chunks) assert.equal(seen.size, expected.get(step), `checkpoint ${step} has ${seen.size} of its ${expected.get(step)} chunks`);
  let steps = 0;
  for await (const record of readTopic(log, metricsTopic(namespace))) {
    JSON.parse(new TextDecoder().decode(record.value!));
    steps++;
  }
  for (const name of ["predictions", "pseudo-labels"]) {
    const view = await VectorBankView.open(log, namespace, name, { follow: false });
    await view.catchUp();
    await view.close();
  }
  return { checkpoints: chunks.size, steps };
}

async function bankSize(log: Log, namespace: string, name: string): Promise<{ size: number; minStep: number }> {
  const view = await VectorBankView.open(log, namespace, name, { follow: false });
  await view.catchUp();
  const { size, minStep } = view.version();
  await view.close();
  return { size, minStep };
}

describe("the semi-supervised program", { timeout: 600_000 }, () => {
  test("inline, threads and processes give equivalent results", async () => {
    const results: Record<string, { outcome: ProgramOutcome; result: TrainResult; predictions: number }> = {};
    for (const launcher of ["inline", "threads", "processes"] as const) {
      const backend = embeddedBackend();
      const before = Date.now();
      const running = await launch({ launcher, program: PROGRAM, config: { model: "mlp", steps: 120, staleness: 1 }, log: backend.url, out: quiet });
      const outcome = await running.done;
      const after = Date.now();
      assert.equal(outcome.state, "completed", `${launcher}: ${outcome.reason}`);
      const log = await backend.open();
      const result = await readTrainResult(log, running.namespace);
      const predictions = (await bankSize(log, running.namespace, "predictions")).size;
      const [run] = await readManifests(log, running.namespace);
      // The manifest dates the whole run from the launch, which came before the trainer started.
      const launchedAt = run!.program!.launchedAt!;
      assert.ok(before <= launchedAt && launchedAt <= run!.startedAt && run!.endedAt! <= after, `${launcher}: launched at ${launchedAt}, trainer ${run!.startedAt}..${run!.endedAt}, test ${before}..${after}`);
      assert.equal(launchToEndSeconds(run!), (run!.endedAt! - launchedAt) / 1000);
      if (launcher === "processes") {
        const replay = await replayRun({ log, namespace: running.namespace, runId: run!.id });
        assert.equal(replay.identical, true, JSON.stringify(replay.firstDivergence));
        assert.deepEqual([replay.originalSeconds, replay.originalRunSeconds], [run!.seconds, launchToEndSeconds(run!)]);
      }
      await log.close();
      assert.ok(result, `${launcher}: the trainer published its result`);
      results[launcher] = { outcome, result, predictions };
    }
    const accuracies = Object.values(results).map((r) => r.result.accuracy.test);
    for (const [launcher, r] of Object.entries(results)) {
      assert.equal(r.result.steps, 120, launcher);
      assert.equal(r.result.checkpoints, results.inline!.result.checkpoints, `${launcher}: same checkpoints`);
      assert.equal(r.predictions, NODES, `${launcher}: the predictions bank holds every node`);
    }
    // Makers run asynchronously, so the knowledge a step sees varies with timing; the loop's outcome must not.
    assert.ok(Math.max(...accuracies) - Math.min(...accuracies) < 0.05, `test accuracies ${accuracies.map((a) => (100 * a).toFixed(1)).join(", ")} differ by 5 points or more`);
    assert.ok(Math.min(...accuracies) > 0.5, `with the bank the MLP beats 50 % on this graph (got ${accuracies.join(", ")})`);
  });

  test("processes: a SIGKILLed maker is restarted by its policy and the program completes with a complete bank", async () => {
    const backend = embeddedBackend();
    const log = await backend.open();
    const namespace = freshNamespace("kill");
    // The staleness bound makes the trainer wait for the makers, so it cannot finish while the maker is down.
    const running = await launch({ launcher: "processes", program: PROGRAM, config: { model: "mlp", steps: 150, staleness: 1 }, log: backend.url, namespace, out: quiet });
    let victim: number | undefined;
    for (const deadline = Date.now() + 120_000; victim === undefined && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const maker = (await readStatus(log, namespace)).get("maker-predictions/0");
      if (maker?.state === "running" && (maker.metrics.computed ?? 0) > 0) victim = maker.pid;
    }
    assert.ok(victim !== undefined && victim !== process.pid, "found the maker's process");
    process.kill(victim, "SIGKILL");
    const outcome = await running.done;
    assert.equal(outcome.state, "completed", outcome.reason);
    assert.equal(outcome.replicas["maker-predictions/0"]!.restarts, 1, "restarted once, by its on-failure policy");
    const status = await readStatus(log, namespace);
    assert.notEqual(status.get("maker-predictions/0")!.pid, victim, "the restarted maker is a new process");
    const result = (await readTrainResult(log, namespace))!;
    assert.equal(result.steps, 150);
    const predictions = await bankSize(log, namespace, "predictions");
    assert.equal(predictions.size, NODES, "every node has a prediction");
    assert.ok(predictions.minStep >= 150 - 2 * 20, `every prediction is from one of the last checkpoints (oldest step ${predictions.minStep})`);
    await assertNoHalfWrittenRecords(log, namespace);
    await log.close();
  });

  test("SIGTERM stops a running program within the grace period, with no half-written records", async () => {
    const backend = embeddedBackend();
    const namespace = freshNamespace("term");
    const graceMs = 8_000;
    const child = spawn(process.execPath, [CLI, "run", PROGRAM, "--launcher", "processes", "--log", backend.url, "--namespace", namespace, "--grace", String(graceMs), "--set", "steps=100000", "--set", "model=gcn"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const log = await backend.open();
    for (const deadline = Date.now() + 120_000; ; await new Promise((r) => setTimeout(r, 200))) {
      assert.ok(Date.now() < deadline, `the trainer did not reach step 20:\n${stderr}`);
      if (((await readStatus(log, namespace)).get("trainer/0")?.metrics.done ?? 0) >= 20) break;
    }
    const signalled = Date.now();
    child.kill("SIGTERM");
    const code = await exited;
    const tookMs = Date.now() - signalled;
    assert.equal(code, 130, `exit code after a signal\n${stderr}`);
    assert.ok(tookMs < graceMs, `stopped in ${tookMs} ms, within the ${graceMs} ms grace period`);
    assert.doesNotMatch(stderr, /killed after the grace period/);
    const status = await readStatus(log, namespace);
    for (const [key, s] of status) assert.ok(s.state === "stopped" || s.state === "completed", `${key} ended ${s.state}`);
    const { checkpoints, steps } = await assertNoHalfWrittenRecords(log, namespace);
    assert.ok(steps >= 20 && checkpoints >= 2, `${steps} steps and ${checkpoints} checkpoints before the stop`);
    await log.close();
  });
});
