/**
 * Cora, standard Planetoid split: test accuracy of each model trained through the real CARLS loop
 * (makers running beside the trainer on the embedded store, knowledge read from the banks every
 * step) beside the same model, same seeds, without knowledge, in the same run. 10 seeds, mean ± std.
 * Each run trains for --steps full-batch steps and reports test accuracy at the step with the best
 * validation accuracy.
 *
 *   npx tsx bench/accuracy.ts [--models mlp,gcn] [--seeds 10] [--steps 400] [--datasets ../shared/datasets]
 */
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { RECIPES, runSemiSupervised, type SemiSupervisedReport } from "../examples/semi-supervised/loop.ts";
import type { ModelKind } from "../graph/models.ts";
import { openLog } from "../src/log/index.ts";

const { values: args } = parseArgs({
  options: {
    models: { type: "string", default: "mlp,gcn" },
    seeds: { type: "string", default: "10" },
    steps: { type: "string", default: "400" },
    datasets: { type: "string", default: process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../shared/datasets") },
    dir: { type: "string", default: ".carls/bench-accuracy" },
  },
});

const TARGETS: Partial<Record<ModelKind, { target: number; reference: string }>> = {
  mlp: { target: 78.0, reference: "published MLP + graph regularisation: 77.7" },
  gcn: { target: 84.0, reference: "GAT 83.0; GCN + graph agreement models 84.8" },
};

const models = args.models.split(",") as ModelKind[];
for (const model of models) if (!(model in RECIPES)) throw new Error(`--models: unknown model ${model} (expected ${Object.keys(RECIPES).join(", ")})`);
const seeds = Number(args.seeds);
const steps = Number(args.steps);
rmSync(args.dir, { recursive: true, force: true });
const log = await openLog(`embedded:${args.dir}`);

const stats = (values: number[]) => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) };
};
const format = (values: number[]) => {
  const { mean, std } = stats(values);
  return `${mean.toFixed(1)} ± ${std.toFixed(1)}`;
};

const rows: string[] = [];
try {
  for (const model of models) {
    const runs: Record<"baseline" | "knowledge", SemiSupervisedReport[]> = { baseline: [], knowledge: [] };
    for (let seed = 0; seed < seeds; seed++) {
      for (const kind of ["baseline", "knowledge"] as const) {
        const report = await runSemiSupervised({
          log,
          namespace: `acc-${model}-${kind}-${seed}`,
          dataset: "cora",
          datasetsDir: args.datasets,
          model,
          seed,
          steps,
          ...(kind === "knowledge" ? { knowledge: RECIPES[model].knowledge } : {}),
        });
        runs[kind].push(report);
        console.log(`${model} ${kind} seed ${seed}: test ${(100 * report.result.accuracy.test).toFixed(1)} (best step ${report.result.bestStep}, ${report.seconds.toFixed(0)} s)`);
      }
    }
    const test = (kind: "baseline" | "knowledge") => runs[kind].map((r) => 100 * r.result.accuracy.test);
    const target = TARGETS[model];
    const seconds = (kind: "baseline" | "knowledge") => stats(runs[kind].map((r) => r.seconds)).mean.toFixed(0);
    rows.push(
      `| ${model} + bank (${describe(model)}) | ${format(test("knowledge"))} | ${format(test("baseline"))} | ${target ? `≥ ${target.target}` : "-"} | ${target?.reference ?? "-"} | ${seconds("knowledge")} s / ${seconds("baseline")} s |`,
    );
  }
} finally {
  await log.close();
}

function describe(model: ModelKind): string {
  const k = RECIPES[model].knowledge;
  return [k.graphWeight > 0 ? `graph regularisation ×${k.graphWeight}${k.dynamicNeighbours ? " + HNSW neighbours" : ""}` : "", k.pseudoWeight > 0 ? `pseudo-labels ≥ ${k.pseudoThreshold}` : ""].filter(Boolean).join(", ");
}

console.log(`\nCora, standard split, ${seeds} seeds, ${steps} steps, real loop on the embedded store`);
console.log("| configuration | with knowledge | same model without | target | reference | time per run (with / without) |");
console.log("|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
