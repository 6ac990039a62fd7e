/**
 * Replay time beside the original run's, in the same run: the semi-supervised loop (makers beside
 * the trainer, in one process, on the embedded store) trains; then `replayRun` re-runs its trainer
 * from the topics, without makers, and checks every step bit for bit: once on every core (segments
 * from the run's checkpoints side by side, the default) and once on one thread, in order. Figures:
 * the whole original run's wall time (ingest, makers starting, training: from the launch to the
 * trainer's end as its manifest records it, or inline from the call), its trainer's, each replay's,
 * and replay ÷ each (target: replay ≤ 0.5 × the original run).
 *
 *   npx tsx bench/replay.ts [--dataset cora|synthetic] [--steps 200] [--configs mlp,gcn,gcn-every-maker] [--datasets ../shared/datasets]
 *                           [--launcher inline|processes]
 *
 * `--launcher processes` runs the original as the semi-supervised program (examples/semi-supervised/
 * program.ts) with every maker in its own process, as a deployment would; the default runs the loop
 * in one process (`runSemiSupervised`, makers on the trainer's thread).
 */
import { existsSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { RECIPES, runSemiSupervised, type KnowledgeConfig } from "../examples/semi-supervised/loop.ts";
import { openLog } from "../src/log/index.ts";
import { launchToEndSeconds, readManifests } from "../src/replay/manifest.ts";
import { launch } from "../src/program/index.ts";
import { replayRun } from "../src/replay/replay.ts";

const PROGRAM = resolve(import.meta.dirname, "../examples/semi-supervised/program.ts");

const { values: args } = parseArgs({
  options: {
    dataset: { type: "string" },
    steps: { type: "string", default: "200" },
    configs: { type: "string" },
    datasets: { type: "string", default: process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../shared/datasets") },
    dir: { type: "string", default: ".carls/bench-replay" },
    launcher: { type: "string", default: "inline" },
  },
});
const dataset = (args.dataset ?? (existsSync(resolve(args.datasets, "planetoid")) ? "cora" : "synthetic")) as "cora" | "synthetic";
const steps = Number(args.steps);
const EVERY_MAKER: KnowledgeConfig = { graphWeight: 1, dynamicNeighbours: true, k: 10, pseudoWeight: 1, pseudoThreshold: 0.8, temperature: 0.5 };
const CONFIGS = {
  mlp: { model: "mlp", knowledge: RECIPES.mlp.knowledge, what: "MLP + graph regularisation (predictions maker)" },
  gcn: { model: "gcn", knowledge: RECIPES.gcn.knowledge, what: "GCN + pseudo-labels (predictions, pseudo-labels makers)" },
  "gcn-every-maker": { model: "gcn", knowledge: EVERY_MAKER, what: "GCN + every maker (predictions, embeddings, HNSW neighbours, pseudo-labels)" },
} as const;

const configs = args.configs ?? (args.launcher === "processes" ? "mlp,gcn" : "mlp,gcn,gcn-every-maker");

rmSync(args.dir, { recursive: true, force: true });
const log = await openLog(`embedded:${args.dir}`);
const rows: string[] = [];
try {
  for (const name of configs.split(",") as (keyof typeof CONFIGS)[]) {
    const config = CONFIGS[name];
    if (!config) throw new Error(`--configs: unknown ${name} (expected ${Object.keys(CONFIGS).join(", ")})`);
    const namespace = `replay-${name}`;
    const started = performance.now();
    if (args.launcher === "processes") {
      if (name === "gcn-every-maker") throw new Error("--launcher processes runs the program's recipes (mlp, gcn)");
      const running = await launch({ launcher: "processes", program: PROGRAM, config: { dataset, datasets: args.datasets, model: config.model, seed: 0, steps }, log: `embedded:${args.dir}`, namespace, out: () => {} });
      const outcome = await running.done;
      if (outcome.state !== "completed") throw new Error(`the original run ${outcome.state}: ${outcome.reason}`);
    } else if (args.launcher === "inline") {
      await runSemiSupervised({ log, namespace, dataset, datasetsDir: args.datasets, model: config.model, seed: 0, steps, knowledge: config.knowledge });
    } else throw new Error(`--launcher must be inline or processes, got ${args.launcher}`);
    const called = (performance.now() - started) / 1000;
    const [run] = await readManifests(log, namespace);
    // The whole original run: from the launch to the trainer's end when a launcher ran it, else (inline) the call.
    const runSeconds = launchToEndSeconds(run!) ?? called;
    const replay = await replayRun({ log, namespace, runId: run!.id });
    const inOrder = await replayRun({ log, namespace, runId: run!.id, parallel: 1 });
    const identical = (r: typeof replay) => (r.identical ? "yes" : `NO: step ${r.firstDivergence!.step} ${r.firstDivergence!.what}`);
    const ratios = (r: typeof replay, mark = "") => `${mark}${(r.seconds / runSeconds).toFixed(2)}×${mark} | ${(r.seconds / run!.seconds!).toFixed(2)}×`;
    const row = `| ${config.what} | ${runSeconds.toFixed(2)} | ${run!.seconds!.toFixed(2)} | ${replay.seconds.toFixed(2)} (${replay.segments} segments, ${replay.threads} threads) | ${ratios(replay, "**")} | ${inOrder.seconds.toFixed(2)} | ${ratios(inOrder)} | ${identical(replay)}, ${identical(inOrder)} |`;
    console.log(row);
    rows.push(row);
  }
} finally {
  await log.close();
}
console.log(`\n${dataset}, ${steps} steps, original run ${args.launcher === "processes" ? "as a program, every maker in its own process" : "in one process"}; tfjs backend as logged above; seconds\n`);
console.log("| configuration | original run, start to end | its trainer | replay | ÷ original run | ÷ its trainer | replay on one thread | ÷ original run | ÷ its trainer | bit-identical (both replays) |\n|---|---|---|---|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
