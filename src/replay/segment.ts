/**
 * One replay executor: everything needed to re-run a recorded trainer over a range of its steps
 * (the graph up to the recorded offsets, the model, the bank views over the banks' history, the
 * original step records and checkpoints), and the run itself, compared bit for bit as it goes.
 * A range that starts after step 0 resumes from the checkpoint and trainer state recorded there.
 */
import type { NamedWeight } from "../../graph/gnn/model.ts";
import { buildModel, graphInputs } from "../../graph/models.ts";
import { graphFingerprint } from "../../graph/store/fingerprint.ts";
import { GraphStore } from "../../graph/store/graph-store.ts";
import { FrozenGraph, freezeGraph, frozenGraphBuffers, type FrozenGraphData } from "../../graph/store/frozen-graph.ts";
import type { TrainingGraph } from "../../graph/store/types.ts";
import { bankNameOf } from "../bank/topics.ts";
import { readPartition } from "../log/read-all.ts";
import type { Log } from "../log/types.ts";
import { checkpointTopic, readCheckpoints } from "../schema/checkpoint-topic.ts";
import { openTerms, type OpenTerms } from "../trainer/knowledge.ts";
import { bestResult, runSteps, type LoopOutcome, type LoopSetup, type StepRecord, type TrainResult } from "../trainer/loop.ts";
import type { TrainerState } from "../trainer/state.ts";
import { metricsTopic } from "../trainer/trainer.ts";
import type { StepClaims } from "./claims.ts";
import { firstDifference, weightsDifference, type Divergence } from "./compare.ts";
import { rangeOf, type RunManifest } from "./manifest.ts";
import { ReplayRefused } from "./retention.ts";

export interface SegmentOutcome extends LoopOutcome {
  /** The step the segment started after (0: the run's start). */
  readonly start: number;
  readonly compared: number;
  readonly divergence?: Divergence;
}

const dec = new TextDecoder();

/** What a replayer reads from the topics, as another thread is handed it (structured clone). */
export interface ReplayHandover {
  readonly graph: FrozenGraphData;
  readonly original: readonly StepRecord[];
  readonly weightsAt: ReadonlyMap<number, readonly NamedWeight[]>;
}

export class SegmentReplayer {
  private constructor(
    private readonly log: Log,
    private readonly manifest: RunManifest,
    private readonly setup: Omit<LoopSetup, "knowledge" | "signal" | "resume">,
    private readonly original: readonly StepRecord[],
    private readonly weightsAt: ReadonlyMap<number, readonly NamedWeight[]>,
    private readonly dispose: () => void,
    /** The model as built, for ranges that start at step 0 after the model trained on another range. */
    private readonly initial = { weights: setup.model.getWeights(), random: setup.model.randomState() },
  ) {}

  /** The steps the run took (fewer than its recipe's when it was stopped or stopped early). */
  get steps(): number {
    return this.manifest.result?.steps ?? this.original.length;
  }

  /** Opens what replaying `manifest`'s run needs, refusing a graph that no longer matches the recorded fingerprint. */
  static async open(log: Log, manifest: RunManifest): Promise<SegmentReplayer> {
    const { namespace } = manifest;
    const graph = await GraphStore.open(log, namespace, { until: manifest.graph.positions });
    if (graphFingerprint(graph) !== manifest.graph.fingerprint) {
      throw new ReplayRefused(`run ${manifest.id} cannot be replayed exactly: the graph topics up to the recorded offsets no longer hold the graph it trained on (they were compacted since, so superseded events are gone). Keep graph topics uncompacted up to a run's offsets to keep it replayable.`);
    }
    const metrics = rangeOf(manifest, metricsTopic(namespace));
    const original: StepRecord[] = [];
    for await (const record of readPartition(log, metrics.topic, 0, metrics.from[0], metrics.to[0])) original.push(JSON.parse(dec.decode(record.value!)) as StepRecord);
    const checkpoints = rangeOf(manifest, checkpointTopic(namespace));
    const weightsAt = new Map<number, readonly NamedWeight[]>();
    for await (const checkpoint of readCheckpoints(log, namespace, checkpoints.from[0]!, checkpoints.to[0]!)) weightsAt.set(checkpoint.step, checkpoint.weights);
    return SegmentReplayer.build(log, manifest, graph, original, weightsAt);
  }

  /** A replayer from what another one read (its `handover`), without reading the graph, step records and checkpoints again. */
  static fromHandover(log: Log, manifest: RunManifest, handover: ReplayHandover): SegmentReplayer {
    return SegmentReplayer.build(log, manifest, new FrozenGraph(handover.graph), handover.original, handover.weightsAt);
  }

  private static build(log: Log, manifest: RunManifest, graph: TrainingGraph, original: readonly StepRecord[], weightsAt: ReadonlyMap<number, readonly NamedWeight[]>): SegmentReplayer {
    const recipe = manifest.trainer;
    const model = buildModel(recipe.spec);
    const inputs = graphInputs(graph, recipe.spec.kind);
    const dispose = () => {
      model.dispose();
      inputs.dispose();
    };
    const setup = { graph, model, inputs: inputs.inputs, steps: 0, learningRate: recipe.learningRate, checkpointEvery: recipe.checkpointEvery, ...(recipe.patience !== undefined ? { patience: recipe.patience } : {}) };
    return new SegmentReplayer(log, manifest, setup, original, weightsAt, dispose);
  }

  /**
   * What this replayer read, for another thread's `fromHandover`, with the buffers to transfer
   * (a new copy of the graph each call, so each may be transferred).
   */
  handover(): { readonly handover: ReplayHandover; readonly transfer: ArrayBuffer[] } {
    const graph = freezeGraph(this.setup.graph);
    return { handover: { graph, original: this.original, weightsAt: this.weightsAt }, transfer: frozenGraphBuffers(graph) };
  }

  /**
   * Replays the steps after `from` (resuming from `state` when `from` > 0) for as long as `claims`
   * gives them, comparing each step and checkpoint with the original; stops at the first divergence.
   * Each run opens its own bank views, which only move forward through the history. `yieldEachStep`
   * lets other work on this thread (the coordinator hearing from workers) run between steps.
   */
  async run(from: number, state: TrainerState | undefined, claims: StepClaims, onStep?: (step: number) => void, yieldEachStep = false): Promise<SegmentOutcome> {
    const knowledge = await openTerms(this.log, this.manifest.namespace, this.manifest.trainer.knowledge, { replay: true });
    try {
      return await this.runWith(knowledge, from, state, claims, onStep, yieldEachStep);
    } finally {
      await knowledge.close();
    }
  }

  private async runWith(knowledge: OpenTerms, from: number, state: TrainerState | undefined, claims: StepClaims, onStep: ((step: number) => void) | undefined, yieldEachStep: boolean): Promise<SegmentOutcome> {
    const stop = new AbortController();
    let divergence: Divergence | undefined;
    const diverge = (d: Divergence) => {
      divergence ??= d;
      stop.abort();
    };
    let resume: LoopSetup["resume"];
    if (from === 0) {
      this.setup.model.setWeights(this.initial.weights);
      this.setup.model.setRandomState(this.initial.random);
    } else {
      const weights = this.weightsAt.get(from);
      if (!state || !weights) throw new Error(`replay: no checkpoint and trainer state of step ${from} to resume from`);
      resume = { weights, state };
    }
    let compared = 0;
    const outcome = await runSteps(
      { ...this.setup, steps: this.steps, knowledge: knowledge.terms, signal: stop.signal, ...(resume ? { resume } : {}) },
      {
        beforeStep: async (step) => {
          if (yieldEachStep) await new Promise(setImmediate);
          if (!claims.claim(step)) return stop.abort();
          const recorded = this.original[step - 1];
          if (!recorded || recorded.step !== step) return diverge({ step, what: "step", original: recorded?.step, replayed: step });
          for (const version of recorded.banks) {
            const view = knowledge.views.get(bankNameOf(version.bank));
            if (!view) return diverge({ step, what: `banks: ${version.bank}`, original: "read", replayed: "not read" });
            await view.replayTo(version.position);
          }
        },
        afterStep: async (record) => {
          // beforeStep stopped the loop where the original has no record of the step.
          const difference = firstDifference(this.original[record.step - 1]!, record);
          if (difference) diverge({ step: record.step, ...difference });
          onStep?.(record.step);
        },
        checkpoint: async (step, weights) => {
          const recorded = this.weightsAt.get(step);
          if (!recorded) return diverge({ step, what: "checkpoint", original: "missing", replayed: "written" });
          const difference = weightsDifference(recorded, weights);
          if (difference) diverge({ step, ...difference });
          compared++;
        },
      },
    );
    return { ...outcome, start: from, compared, ...(divergence ? { divergence } : {}) };
  }

  /** The result of `outcome`'s best weights, measured with this replayer's model. */
  result(outcome: LoopOutcome): TrainResult {
    return bestResult(this.setup, outcome);
  }

  close(): void {
    this.dispose();
  }
}
