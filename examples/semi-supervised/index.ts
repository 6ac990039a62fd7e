/**
 * The semi-supervised CARLS loop from the command line: the model trained with knowledge from the
 * bank, beside the same model without it, over several seeds, then a report.
 *
 *   npx tsx examples/semi-supervised [--dataset cora|synthetic] [--model mlp|gcn] [--seeds 3] [--steps 300]
 *                                    [--kafka host:port] [--dir .carls/semi-supervised] [--datasets ../shared/datasets]
 *
 * The embedded store in --dir is the default; --kafka runs the same loop on a Kafka cluster.
 */
import { existsSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { openLog } from "../../src/log/index.ts";
import { DEFAULT_KNOWLEDGE, runSemiSupervised, type SemiSupervisedReport } from "./loop.ts";

const { values: args } = parseArgs({
  options: {
    dataset: { type: "string" },
    model: { type: "string", default: "mlp" },
    seeds: { type: "string", default: "3" },
    steps: { type: "string", default: "300" },
    "checkpoint-every": { type: "string", default: "5" },
    kafka: { type: "string" },
    dir: { type: "string", default: ".carls/semi-supervised" },
    datasets: { type: "string", default: process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../../shared/datasets") },
  },
});
const model = args.model;
if (model !== "mlp" && model !== "gcn") throw new Error(`--model must be mlp or gcn, got ${model}`);
const dataset = args.dataset ?? (existsSync(resolve(args.datasets, "planetoid")) ? "cora" : "synthetic");
if (dataset !== "cora" && dataset !== "synthetic") throw new Error(`--dataset must be cora or synthetic, got ${dataset}`);
const seeds = Number(args.seeds);
if (!args.kafka) rmSync(args.dir, { recursive: true, force: true });
const log = await openLog(args.kafka ? `kafka://${args.kafka}` : `embedded:${args.dir}`);

const reports: SemiSupervisedReport[] = [];
const bar = new cliProgress.SingleBar({ format: "{run} [{bar}] step {value}/{total} | loss {loss} | val {val}", hideCursor: true, noTTYOutput: true, notTTYSchedule: 5000 }, cliProgress.Presets.shades_classic);
try {
  for (let seed = 0; seed < seeds; seed++) {
    for (const withKnowledge of [false, true]) {
      const run = `${model}${withKnowledge ? "+bank" : ""} seed ${seed}`;
      bar.start(Number(args.steps), 0, { run, loss: "-", val: "-" });
      reports.push(
        await runSemiSupervised({
          log,
          namespace: `semi${Date.now().toString(36)}`,
          dataset,
          datasetsDir: args.datasets,
          model,
          seed,
          steps: Number(args.steps),
          checkpointEvery: Number(args["checkpoint-every"]),
          patience: 100,
          ...(withKnowledge ? { knowledge: DEFAULT_KNOWLEDGE[model] } : {}),
          onStep: (r) => bar.update(r.step, { run, loss: r.loss.toFixed(3), val: (100 * r.accuracy.val).toFixed(1) }),
        }),
      );
      bar.stop();
    }
  }
} finally {
  await log.close();
}

const summary = (rows: SemiSupervisedReport[]) => {
  const test = rows.map((r) => 100 * r.result.accuracy.test);
  const mean = test.reduce((a, b) => a + b, 0) / test.length;
  const std = Math.sqrt(test.reduce((a, b) => a + (b - mean) ** 2, 0) / test.length);
  return `${mean.toFixed(1)} ± ${std.toFixed(1)}`;
};
console.log(`\n${dataset}, ${model}, ${seeds} seeds, ${args.kafka ? "kafka" : "embedded"} store, tfjs ${reports[0]?.backend}`);
console.log(`  without knowledge: test accuracy ${summary(reports.filter((r) => !r.knowledge))}`);
console.log(`  with the bank:     test accuracy ${summary(reports.filter((r) => r.knowledge))}`);
const last = reports.at(-1)!;
for (const m of last.makers) console.log(`  maker ${m.maker}: ${m.computed} keys computed, ${m.cycles} cycles, ${Math.round(m.keysPerSecond)} keys/s`);
