/**
 * The semi-supervised CARLS loop as a program: an ingest job, one node per maker (replicas split
 * the keys), and the trainer, joined only through topics and banks. Launch it with any launcher:
 *
 *   npx carls run examples/semi-supervised/program.ts --launcher processes --set model=gcn --set steps=200
 *
 * Configuration (`--set key=value`): dataset (synthetic | cora), model (mlp | gcn), seed, steps,
 * knowledge (true | false), staleness (checkpoints), makerReplicas, checkpointEvery, datasets (the
 * folder holding planetoid/; default $CARLS_DATASETS, else ../shared/datasets beside the repository).
 */
import { resolve } from "node:path";
import { Either, ParseResult, Schema } from "effect";
import { writeGraph } from "../../connectors/index.ts";
import { initBackend } from "../../graph/gnn/backend.ts";
import { startMaker } from "../../src/makers/index.ts";
import { bank, daemon, onFailure, program, task, topic, type NodeDefinition, type ProgramConfig } from "../../src/program/index.ts";
import { graphSource, knowledgeMakers, RECIPES, trainWithKnowledge } from "./loop.ts";

const Count = (min: number) => Schema.Union(Schema.Number, Schema.NumberFromString).pipe(Schema.int(), Schema.greaterThanOrEqualTo(min));
const Flag = Schema.Union(Schema.Boolean, Schema.BooleanFromString);

export const SemiSupervisedProgramConfig = Schema.Struct({
  dataset: Schema.optionalWith(Schema.Literal("synthetic", "cora"), { default: () => "synthetic" as const }),
  model: Schema.optionalWith(Schema.Literal("mlp", "gcn"), { default: () => "mlp" as const }),
  seed: Schema.optionalWith(Count(0), { default: () => 0 }),
  steps: Schema.optionalWith(Count(1), { default: () => 200 }),
  knowledge: Schema.optionalWith(Flag, { default: () => true }),
  staleness: Schema.optional(Count(0)),
  makerReplicas: Schema.optionalWith(Count(1), { default: () => 1 }),
  checkpointEvery: Schema.optional(Count(1)),
  datasets: Schema.optional(Schema.NonEmptyString),
});
export type SemiSupervisedProgramConfig = typeof SemiSupervisedProgramConfig.Type;

export function parseConfig(config: ProgramConfig): SemiSupervisedProgramConfig {
  const decoded = Schema.decodeUnknownEither(SemiSupervisedProgramConfig)(config, { onExcessProperty: "error" });
  if (Either.isLeft(decoded)) throw new Error(`semi-supervised program: invalid configuration\n${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`);
  return decoded.right;
}

export const graphTopics = [topic("graph.nodes"), topic("graph.edges")];
export const checkpoints = topic("model.checkpoints");

export default (raw: ProgramConfig) => {
  const config = parseConfig(raw);
  const knowledge = config.knowledge ? RECIPES[config.model].knowledge : undefined;
  const makers = knowledge ? knowledgeMakers(knowledge) : [];
  const makerNodes = makers.map((maker): NodeDefinition => {
    const { bank: output, outputKind } = maker.make();
    return {
      name: `maker-${maker.name}`,
      group: "makers",
      replicas: config.makerReplicas,
      after: ["ingest"],
      restart: onFailure({ backoffMs: 200, maxRestarts: 5 }),
      reads: [...graphTopics, checkpoints, ...maker.inputBanks.map((name) => bank(name))],
      writes: [bank(output, outputKind)],
      run: daemon(async (ctx) => {
        await initBackend();
        const running = await startMaker(ctx.log, ctx.namespace, maker.make(), {
          pollWaitMs: 50,
          onBatch: (stats) => ctx.report({ computed: stats.computed, throughput: Math.round(stats.keysPerSecond), stale: stats.stale, lag: stats.outputLag }),
        });
        return running;
      }),
    };
  });
  return program("semi-supervised", [
    {
      name: "ingest",
      restart: onFailure({ maxRestarts: 3 }),
      writes: graphTopics,
      run: task(async (ctx) => {
        const datasets = config.datasets ?? process.env.CARLS_DATASETS ?? resolve(import.meta.dirname, "../../../shared/datasets");
        const summary = await writeGraph({ log: ctx.log, namespace: ctx.namespace, source: graphSource(config.dataset, datasets), progress: false });
        ctx.info(`ingested ${summary.nodes} nodes, ${summary.edges} edges, ${summary.bad} bad records`);
      }),
    },
    ...makerNodes,
    {
      name: "trainer",
      critical: true,
      terminal: true,
      after: ["ingest"],
      reads: [...graphTopics, ...makerNodes.flatMap((m) => m.writes ?? [])],
      writes: [checkpoints, topic("trainer.metrics"), topic("trainer.result")],
      run: task(async (ctx, signal) => {
        const started = performance.now();
        const { result, backend } = await trainWithKnowledge(
          ctx.log,
          ctx.namespace,
          {
            dataset: config.dataset,
            model: config.model,
            seed: config.seed,
            steps: config.steps,
            ...(config.checkpointEvery !== undefined ? { checkpointEvery: config.checkpointEvery } : {}),
            ...(config.staleness !== undefined ? { staleness: config.staleness } : {}),
            ...(knowledge ? { knowledge } : {}),
          },
          { signal, run: { program: { name: "semi-supervised", config: { ...raw }, launchedAt: ctx.launchedAt } }, onStep: (r) => ctx.report({ done: r.step, total: config.steps, loss: r.loss, val: r.accuracy.val, throughput: 1000 / r.ms }) },
        );
        ctx.info(`trained ${result.steps} steps in ${((performance.now() - started) / 1000).toFixed(1)} s on tfjs ${backend}: test accuracy ${(100 * result.accuracy.test).toFixed(1)} %`);
      }),
    },
  ]);
};
