/**
 * The semi-supervised CARLS loop from the command line: the model trained with knowledge from the
 * bank, beside the same model without it, over several seeds, then a report.
 *
 *   npx tsx examples/semi-supervised [--dataset cora|synthetic] [--model mlp|gcn] [--seeds 3] [--steps 400]
 *                                    [--checkpoint-every 5] [--staleness <checkpoints>]
 *                                    [--kafka host:port] [--dir .carls/semi-supervised] [--datasets ../shared/datasets]
 *
 * The embedded store in --dir is the default; --kafka runs the same loop on a Kafka cluster.
 */
import { existsSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { openLog } from "../../src/log/index.ts";
import { RECIPES, runSemiSupervised, type SemiSupervisedReport } from "./loop.ts";

const { values: args } = parseArgs({
  options: {
    dataset: { type: "string" },
    model: { type: "string", default: "mlp" },
    seeds: { type: "string", default: "3" },
    steps: { type: "string", default: "400" },
    "checkpoint-every": { type: "string" },
    staleness: { type: "string" },
    kafka: { type: "string" },
    dir: { type: "string", default: ".carls/semi-supervised" },
    datasets: { type: "string", default: process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../../shared/datasets") },
  },
});
const model = args.model;
if (model !== "mlp" && model !== "gcn") throw new Error(`--model must be mlp or gcn, got ${model}`);
const dataset = args.dataset ?? (existsSync(resolve(args.datasets, "planetoid")) ? "cora" : "synthetic");
if (dataset !== "cora" && dataset !== "synthetic") throw new Error(`--dataset must be cora or synthetic, got ${dataset}`);
const count = (flag: string, value: string | undefined, min: number): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(Number.isInteger(n) && n >= min)) throw new Error(`--${flag} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
};
const seeds = count("seeds", args.seeds, 1)!;
const steps = count("steps", args.steps, 1)!;
const checkpointEvery = count("checkpoint-every", args["checkpoint-every"], 1);
const staleness = count("staleness", args.staleness, 0);
if (!args.kafka) rmSync(args.dir, { recursive: true, force: true });
const log = await openLog(args.kafka ? `kafka://${args.kafka}` : `embedded:${args.dir}`);

const reports: SemiSupervisedReport[] = [];
const bar = new cliProgress.SingleBar({ format: "{run} [{bar}] step {value}/{total} | loss {loss} | val {val}", hideCursor: true, noTTYOutput: true, notTTYSchedule: 5000 }, cliProgress.Presets.shades_classic);
try {
  for (let seed = 0; seed < seeds; seed++) {
    for (const withKnowledge of [false, true]) {
      const run = `${model}${withKnowledge ? "+bank" : ""} seed ${seed}`;
      bar.start(steps, 0, { run, loss: "-", val: "-" });
      reports.push(
        await runSemiSupervised({
          log,
          namespace: `semi${Date.now().toString(36)}`,
          dataset,
          datasetsDir: args.datasets,
          model,
          seed,
          steps,
          ...(checkpointEvery !== undefined ? { checkpointEvery } : {}),
          ...(staleness !== undefined ? { staleness } : {}),
          ...(withKnowledge ? { knowledge: RECIPES[model].knowledge } : {}),
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
