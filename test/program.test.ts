/** Programs as values, the launchers on a small program, the test launcher's stubs, restart policies, RPC, and what --graph and --emit write. */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Effect } from "effect";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { BankWriter } from "../src/bank/index.ts";
import { launch, onFailure, program, readStatus, task, type ProgramOutcome } from "../src/program/index.ts";
import { processesPlacement } from "../src/program/placement-processes.ts";
import type { ProgramNode } from "../src/program/program.ts";
import { deadLetterTopic } from "../src/schema/dead-letter.ts";
import { embeddedBackend, freshNamespace, kafkaBackend } from "./support/backends.ts";
import { runTsx } from "./support/child-process.ts";

const ECHO = join(import.meta.dirname, "fixtures/echo-program.ts");
const SLOW = join(import.meta.dirname, "fixtures/slow-loading-program.ts");
const CLI = join(import.meta.dirname, "../bin/carls.js");
const quiet = () => {};

describe("program values", () => {
  const ok = task(async () => {});
  test("a program names what is wrong with it", () => {
    assert.throws(() => program("p", []), /has no nodes/);
    assert.throws(() => program("p", [{ name: "a", run: ok }, { name: "a", run: ok }]), /two nodes are named a/);
    assert.throws(() => program("p", [{ name: "a", after: ["b"], run: ok }]), /runs after "b", which is not a node/);
    assert.throws(() => program("p", [{ name: "a", after: ["b"], run: ok }, { name: "b", after: ["a"], run: ok }]), /cycle: a → b → a/);
    assert.throws(() => program("p", [{ name: "a", group: "g", replicas: 2, run: ok }, { name: "b", group: "g", run: ok }]), /mixes replica counts/);
    assert.throws(() => program("p", [{ name: "a", replicas: 0, run: ok }]), /replicas must be an integer ≥ 1/);
    assert.throws(() => program("P q", [{ name: "a", run: ok }]), /its name must match/);
    assert.throws(() => program("p", [{ name: "a", run: 42 as never }]), /node a: run must be a function of the node's context; write it with task\(async \(ctx, signal\) => \.\.\.\)/);
  });

  test("a node whose run returns a promise instead of an effect fails saying to wrap it in task()", async () => {
    const p = program("unwrapped", [{ name: "plain", terminal: true, run: (async () => {}) as never }]);
    const outcome = await (await launch({ program: p, log: embeddedBackend().url, out: quiet })).done;
    assert.equal(outcome.state, "failed");
    assert.match(outcome.reason, /node plain: run returned a Promise, not an Effect; wrap promise code in task\(async \(ctx, signal\) => \.\.\.\) or daemon/);
  });

  // The program file takes a minute to load: the stop must not wait for it.
  test("a replica told to stop while its program still loads ends as stopped at once, not killed by the signal", { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "carls-slow-"));
    let loading: () => void = () => {};
    const loaded = new Promise<void>((resolve) => (loading = resolve));
    const placement = processesPlacement({
      spec: { programFile: SLOW, config: {}, log: `embedded:${dir}`, namespace: "slow", launch: "slow" },
      out: (line) => line.endsWith("loading") && loading(),
    });
    const replica = placement.start({ name: "only" } as ProgramNode, 0, 0);
    try {
      await loaded;
      replica.terminate();
      assert.deepEqual(await replica.exit, { kind: "stopped" });
    } finally {
      replica.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("threads and processes need a program file and a log location", async () => {
    const p = program("p", [{ name: "a", run: ok }]);
    await assert.rejects(launch({ launcher: "threads", program: p, log: "embedded:/tmp/x" }), /needs the program as a file/);
    const log = await embeddedBackend().open();
    await assert.rejects(launch({ launcher: "processes", program: ECHO, log }), /needs a log location/);
    await log.close();
  });
});

async function runEcho(launcher: "inline" | "threads" | "processes", url: string): Promise<{ outcome: ProgramOutcome; lines: string[] }> {
  const lines: string[] = [];
  const running = await launch({ launcher, program: ECHO, config: { count: 300 }, log: url, namespace: freshNamespace("echo"), out: (l) => lines.push(l) });
  return { outcome: await running.done, lines };
}

describe("launchers run one program definition unchanged", { timeout: 180_000 }, () => {
  for (const launcher of ["inline", "threads", "processes"] as const) {
    test(`${launcher}, embedded store`, async () => {
      const { outcome, lines } = await runEcho(launcher, embeddedBackend().url);
      assert.equal(outcome.state, "completed", outcome.reason);
      assert.deepEqual(Object.keys(outcome.replicas).sort(), ["checker/0", "doubler/0", "doubler/1", "producer/0"]);
      assert.equal(outcome.replicas["checker/0"]!.exit.kind, "completed");
      assert.equal(outcome.replicas["doubler/0"]!.exit.kind, "stopped", "a long-running node is stopped once the terminal node completed");
      assert.deepEqual(outcome.killed, []);
      assert.ok(lines.includes("[checker/0] doubler says 21 * 2 = 42"), lines.join("\n"));
      assert.ok(lines.includes("[checker/0] saw all 300 doubled"), lines.join("\n"));
    });
  }
  test("processes, Kafka", async () => {
    const { outcome, lines } = await runEcho("processes", (await kafkaBackend()).url);
    assert.equal(outcome.state, "completed", `${outcome.reason}\n${lines.join("\n")}`);
    assert.ok(lines.includes("[checker/0] saw all 300 doubled"));
  });
});

describe("logs and status", () => {
  test("--log-dir writes each replica's lines to its own file; carls status shows every replica's state and metrics", async () => {
    const backend = embeddedBackend();
    const logDir = mkdtempSync(join(tmpdir(), "carls-logs-"));
    const lines: string[] = [];
    const running = await launch({ launcher: "processes", program: ECHO, config: { count: 50 }, log: backend.url, logDir, out: (l) => lines.push(l) });
    assert.equal((await running.done).state, "completed");
    // A doubler replica may be stopped before it wrote a line (the other can do all the work), so it may have no file.
    const files = readdirSync(logDir).sort();
    assert.ok(files.includes("checker.0.log") && files.includes("producer.0.log") && files.some((f) => /^doubler\.[01]\.log$/.test(f)), files.join(", "));
    assert.ok(files.every((f) => /^(checker|producer|doubler)\.\d\.log$/.test(f)), files.join(", "));
    assert.match(readFileSync(join(logDir, "checker.0.log"), "utf8"), /^doubler says 21 \* 2 = 42\nsaw all 50 doubled\n/);
    assert.ok(lines.includes("[producer/0] wrote 50 numbers"));
    const table = await runTsx(CLI, ["status", "--log", backend.url, "--namespace", running.namespace], 60_000);
    assert.match(table, /^replica +state +restarts +where +updated +metrics\n/);
    assert.match(table, /\nchecker\/0 +completed +0 /);
    // Each doubler reports what it copied once it has started; one stopped before it started has no metrics.
    assert.match(table, /\ndoubler\/1 +stopped +0 +[^ ]+:\d+ /);
    assert.match(table, /\ndoubler\/\d +stopped +0 +[^ ]+:\d+ .*copied=\d+/);
  });
});

describe("the test launcher, restart policies and critical nodes", { timeout: 60_000 }, () => {
  test("stubs replace nodes; a failing node restarts by its policy; the stop condition ends the program", async () => {
    const attempts = [0, 0];
    const backend = embeddedBackend();
    const running = await launch({
      launcher: "test",
      program: ECHO,
      config: { count: 10 },
      log: backend.url,
      out: quiet,
      stubs: {
        // Fails twice, then copies nothing and idles: the checker cannot complete, so the stop condition ends the run.
        doubler: (ctx) => Effect.suspend(() => (++attempts[ctx.replica]! <= 2 ? Effect.fail(new Error(`attempt ${attempts[ctx.replica]} failed`)) : Effect.never)),
        checker: () => Effect.never,
      },
      stopWhen: (status) => [...status.values()].filter((s) => s.node === "doubler" && s.state === "running" && s.restarts === 2).length === 2,
    });
    const outcome = await running.done;
    assert.equal(outcome.state, "completed", outcome.reason);
    assert.match(outcome.reason, /stop condition/);
    assert.deepEqual(attempts, [3, 3], "two replicas, each failing twice and then running");
    assert.equal(outcome.replicas["doubler/0"]!.restarts, 2);
    const log = await backend.open();
    const status = await readStatus(log, running.namespace);
    await log.close();
    assert.equal(status.get("doubler/1")?.state, "stopped");
    assert.equal(status.get("doubler/1")?.restarts, 2);
  });

  test("a critical node that dies for good fails the whole program fast, naming it", async () => {
    const started = Date.now();
    const running = await launch({
      launcher: "test",
      program: ECHO,
      log: embeddedBackend().url,
      out: quiet,
      stubs: { checker: () => Effect.fail(new Error("the checker broke")), doubler: () => Effect.never },
    });
    const outcome = await running.done;
    assert.equal(outcome.state, "failed");
    assert.match(outcome.reason, /critical node checker\/0 failed: .*the checker broke/);
    assert.equal(outcome.replicas["doubler/0"]!.exit.kind, "stopped");
    assert.ok(Date.now() - started < 5_000);
  });

  test("a node that failed for good ends the program when others run after it; a stop condition that throws ends it too", async () => {
    const broken = await launch({ launcher: "test", program: ECHO, log: embeddedBackend().url, out: quiet, stubs: { producer: () => Effect.fail(new Error("no input")) } });
    const outcome = await broken.done;
    assert.equal(outcome.state, "failed");
    assert.match(outcome.reason, /producer\/0 failed for good \(.*no input\), so doubler, checker, which run after it, can never start/);
    const throwing = await launch({ launcher: "test", program: ECHO, log: embeddedBackend().url, out: quiet, stubs: { checker: () => Effect.never }, stopWhen: (status) => status.get("trainer/0")!.metrics.done! > 1 });
    const stopped = await throwing.done;
    assert.equal(stopped.state, "failed");
    assert.match(stopped.reason, /the stop condition threw: .*undefined/);
  });

  test("max restarts bounds the restarts of a node", async () => {
    const p = program("bounded", [{ name: "flaky", terminal: true, restart: onFailure({ backoffMs: 10, maxRestarts: 3 }), run: () => Effect.fail(new Error("always")) }]);
    const outcome = await (await launch({ program: p, log: embeddedBackend().url, out: quiet })).done;
    assert.equal(outcome.state, "failed");
    assert.equal(outcome.replicas["flaky/0"]!.restarts, 3);
    assert.match(outcome.reason, /flaky\/0 .*always/);
  });
});

describe("RPC services", () => {
  test("an unknown method is a clear error from the service", async () => {
    const { service, rpcClient } = await import("../src/program/index.ts");
    const { serveRpc } = await import("../src/program/rpc.ts");
    const log = await embeddedBackend().open();
    const handle = service<{ add(x: { a: number; b: number }): Promise<number> }>("adder");
    const stop = new AbortController();
    const serving = serveRpc(log, "rpc", handle, { add: async ({ a, b }) => a + b }, stop.signal);
    const client = await rpcClient(log, "rpc", handle);
    assert.equal(await client.call("add", { a: 2, b: 3 }), 5);
    await assert.rejects(client.call("sub" as "add", { a: 1, b: 1 }), /adder: service adder has no method "sub" \(it has add\)/);
    await client.close();
    stop.abort();
    await serving;
    await log.close();
  });
});

describe("carls bank inspect", () => {
  test("opens a bank as what it holds: neighbour lists are shown as such and nothing goes to the dead letters", async () => {
    const backend = embeddedBackend();
    const log = await backend.open();
    const writer = await BankWriter.open(log, "ins", "near");
    await writer.upsertNeighbours([{ key: "a", neighbours: { ids: ["b", "c"], distances: Float32Array.of(0.25, 0.5) } }], 3);
    await log.close();
    const out = await runTsx(CLI, ["bank", "inspect", "near", "--log", backend.url, "--namespace", "ins", "--key", "a"], 60_000);
    assert.match(out, /^bank near \(neighbour lists\)\n  keys: +1\n  steps: 3 \.\. 3\n/);
    assert.match(out, /a \(step 3\): b \(distance 0\.2500\), c \(distance 0\.5000\)/);
    const after = await backend.open();
    const letters = (await after.offsets(deadLetterTopic("ins.kb.near"))).reduce((n, o) => n + o.highWatermark, 0);
    assert.equal(letters, 0, "no dead letters written");
    await after.close();
  });
});

describe("carls launch --graph and --emit", () => {
  const program = join(import.meta.dirname, "../examples/semi-supervised/program.ts");
  test("--emit writes manifests that validate against the Kubernetes API schemas, and one command per replica", async () => {
    const dir = mkdtempSync(join(tmpdir(), "carls-emit-"));
    await runTsx(CLI, ["launch", program, "--emit", dir, "--log", "kafka://kafka-0.kafka:9092", "--namespace", "semi-run1", "--set", "model=gcn", "--set", "makerReplicas=3", "--image", "registry.local/carls:0.1.0"], 60_000);
    const manifests = readdirSync(join(dir, "k8s")).flatMap((f) => parseAllDocuments(readFileSync(join(dir, "k8s", f), "utf8")).map((d) => d.toJS() as { kind: string }));
    const deployments = manifests.filter((m) => m.kind === "Deployment").map((m) => new Deployment(m as never));
    const configMaps = manifests.filter((m) => m.kind === "ConfigMap").map((m) => new ConfigMap(m as never));
    for (const m of [...deployments, ...configMaps]) m.validate();
    assert.deepEqual(deployments.map((d) => d.metadata!.name).sort(), ["semi-run1-ingest", "semi-run1-makers", "semi-run1-trainer"]);
    const makers = deployments.find((d) => d.metadata!.name === "semi-run1-makers")!;
    assert.equal(makers.spec!.replicas, 3);
    assert.deepEqual(makers.spec!.template.spec!.containers.map((c) => c.name), ["maker-predictions", "maker-pseudo-labels"]);
    assert.equal(configMaps[0]!.data!.CARLS_LOG, "kafka://kafka-0.kafka:9092");
    assert.deepEqual(JSON.parse(configMaps[0]!.data!.CARLS_CONFIG!), { model: "gcn", makerReplicas: "3" });
    const commands = readFileSync(join(dir, "commands.sh"), "utf8").split("\n").filter((l) => l.includes("'node'"));
    assert.equal(commands.length, 1 + 2 * 3 + 1);
    // A manifest the schema rejects is caught by the same check.
    assert.throws(() => new Deployment({ ...(manifests.find((m) => m.kind === "Deployment") as object), spec: { replicas: "three" } } as never).validate());
  });

  test("--emit needs Kafka: a cluster's nodes share nothing else", async () => {
    await assert.rejects(runTsx(CLI, ["launch", program, "--emit", join(tmpdir(), "never"), "--log", "embedded:/tmp/x"], 60_000), /joins its nodes only through Kafka/);
  });

  test("--graph writes the node/handle graph as SVG and prints it as Mermaid", async () => {
    const svg = join(mkdtempSync(join(tmpdir(), "carls-graph-")), "semi.svg");
    const stdout = await runTsx(CLI, ["launch", program, "--graph", svg], 60_000);
    assert.match(stdout, /^flowchart LR/);
    for (const node of ["ingest", "maker-predictions", "trainer"]) assert.ok(stdout.includes(`["${node}`), `Mermaid has ${node}`);
    assert.ok(stdout.includes("bank_predictions --> node_trainer"));
    const text = readFileSync(svg, "utf8");
    assert.match(text, /<svg[\s\S]*>trainer \(critical\)<\/text>[\s\S]*>bank predictions<\/text>[\s\S]*<\/svg>/);
  });
});
