/**
 * Replay: runs a recorded trainer again on exactly the inputs it saw, from the topics alone. The
 * graph is read up to the recorded offsets (and checked against the recorded fingerprint); before
 * each step the bank views are moved, through the banks' history, to the positions the original
 * step recorded; makers do not run. Every step's loss, terms, accuracy and bank versions, every
 * checkpoint's weights and the final result are compared with the original, bit for bit.
 *
 * Segments run side by side: this thread opens the run and replays from step 0; worker threads
 * start beside it and build their replayers from what it read (handed over). Each, once ready,
 * takes the second half of the steps left to the executor with the most left, from a checkpoint
 * boundary, resuming from the checkpoint and the trainer state (Adam's moments, the dropout
 * generator, the best accuracy so far) recorded there. The executors' claims
 * on steps are shared words changed by compare-and-swap (claims.ts), so each step runs once.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { initBackend } from "../../graph/gnn/backend.ts";
import type { Log } from "../log/types.ts";
import type { LoopOutcome, TrainResult } from "../trainer/loop.ts";
import { readTrainerStates, trainerStateTopic, type TrainerState } from "../trainer/state.ts";
import { bundledWorkerSource } from "../bundled-worker.ts";
import { StepClaims } from "./claims.ts";
import { resultDifference, type Divergence } from "./compare.ts";
import { launchToEndSeconds, packageVersions, readManifest, type RunManifest, type TopicRange } from "./manifest.ts";
import type { Assignment, CoordinatorMessage, WorkerData, WorkerMessage } from "./replay-worker.ts";
import { rangeProblems, replayProblems, ReplayRefused } from "./retention.ts";
import { SegmentReplayer, type SegmentOutcome } from "./segment.ts";

export type { Divergence } from "./compare.ts";

const WORKER = new URL("./replay-worker.ts", import.meta.url);

export interface ReplayOptions {
  readonly log: Log;
  readonly namespace: string;
  readonly runId: string;
  /** How many threads replay segments side by side (default: the machine's cores; 1: in order, on this thread only). */
  readonly parallel?: number;
  /** Progress: how many steps of `of` have been replayed. */
  readonly onStep?: (done: number, of: number) => void;
}

export interface ReplayReport {
  readonly runId: string;
  /** True when every compared value is bit-identical. */
  readonly identical: boolean;
  readonly firstDivergence?: Divergence;
  readonly steps: number;
  readonly checkpointsCompared: number;
  /** How many ranges of steps were replayed, each from a checkpoint, and on how many threads; why fewer threads than asked, when so. */
  readonly segments: number;
  readonly threads: number;
  readonly threadsNote?: string;
  readonly backend: string;
  readonly originalBackend: string;
  /** carls's version here, and the one that recorded the run (numerics may change between versions). */
  readonly carls: string;
  readonly originalCarls: string;
  readonly seconds: number;
  /** The original trainer's wall time. */
  readonly originalSeconds: number | undefined;
  /** The whole original run's wall time, from its program's launch to the trainer's end, when a launcher launched it. */
  readonly originalRunSeconds: number | undefined;
}

export async function replayRun(options: ReplayOptions): Promise<ReplayReport> {
  const started = performance.now();
  const { log, namespace } = options;
  const parallel = options.parallel ?? availableParallelism();
  if (!(Number.isInteger(parallel) && parallel >= 1)) throw new Error(`replay: parallel must be an integer ≥ 1, got ${parallel}`);
  const manifest = await readManifest(log, namespace, options.runId);
  const problems = await replayProblems(log, manifest);
  if (problems.length > 0) throw new ReplayRefused(`run ${manifest.id} cannot be replayed exactly:\n  - ${problems.join("\n  - ")}`);
  const notes: string[] = [];
  const stateRange = parallel > 1 ? await resumableRange(log, manifest) : { note: "parallel 1" };
  if (stateRange.note) notes.push(stateRange.note);
  // Workers start first (esbuild bundles their code in its own process) and load while this
  // thread opens the run. At most one per trainer-state record: a state may span several records,
  // and a worker left without a range is told so when it asks.
  const workerCount = stateRange.range ? Math.min(parallel - 1, stateRange.range.to[0]! - (stateRange.range.from[0] ?? 0)) : 0;
  const book = new RangeBook();
  let done = 0;
  let total = 0;
  const progress = () => options.onStep?.(++done, total);
  const spawned: Promise<Worker[]> =
    workerCount > 0
      ? bundledWorkerSource(WORKER)
          .then((source) => Array.from({ length: workerCount }, () => new Worker(source, { eval: true, workerData: { location: log.location, manifest } satisfies WorkerData })))
          .catch((error: unknown) => {
            notes.push(`no worker thread could start: ${error instanceof Error ? error.message : String(error)}`);
            return [];
          })
      : Promise.resolve([]);
  const opened = initBackend().then(async (backend) => ({ backend, replayer: await SegmentReplayer.open(log, manifest) }));
  // Read beside the run's opening, not after it: read between this thread's steps they were late for the first worker.
  const statesRead: Promise<Resumable> = stateRange.range ? readResumableStates(log, manifest, stateRange.range) : Promise.resolve({ states: new Map() });
  const first = opened.then(({ replayer }) => {
    total = replayer.steps;
    return book.start(total);
  });
  // Ranges are handed out once the run is open and the states are read.
  const ready = Promise.all([first, statesRead]).then(([, read]) => {
    book.resumeFrom(read.states);
    if (read.note) notes.push(read.note);
    else if (stateRange.range && read.states.size < parallel - 1) notes.push(`only ${read.states.size} checkpoint${read.states.size === 1 ? "" : "s"} to resume from`);
  });
  // When the opening fails, these fail with it; the failure is reported once, below.
  first.catch(() => undefined);
  ready.catch(() => undefined);
  // Listening from the start: a worker may fail and exit before this thread has opened the run.
  const running = spawned.then((workers) => workers.map((worker) => runWorker(worker, ready, () => book.take(), progress, notes)));
  // Workers build their replayers from what this thread read, instead of reading the topics again.
  // A worker that cannot be handed the run is told nothing is left, and stops.
  void Promise.all([opened, spawned]).then(
    ([{ replayer }, workers]) => {
      for (const worker of workers) {
        try {
          const { handover, transfer } = replayer.handover();
          worker.postMessage({ kind: "handover", handover } satisfies CoordinatorMessage, transfer);
        } catch (error) {
          notes.push(`the run could not be handed to a worker thread: ${error instanceof Error ? error.message : String(error)}`);
          worker.postMessage({} satisfies Assignment);
        }
      }
    },
    () => undefined,
  );
  const { backend, replayer } = await opened.catch(async (error: unknown) => {
    book.stopAll();
    const runs = await running;
    runs.forEach((run) => run.stopIfIdle());
    await Promise.allSettled(runs.map((run) => run.outcomes));
    throw error;
  });
  try {
    // One executor failing ends the others' ranges where they are, so that all settle soon.
    const stopAll = (error: unknown): never => {
      book.stopAll();
      throw error;
    };
    // Every executor, this thread included, replays a range and then takes half of the largest left.
    const own = (async () => {
      const outcomes: SegmentOutcome[] = [];
      for (let range: Range | undefined = { from: 0, claims: await first }; range; range = await ready.then(() => book.take())) outcomes.push(await replayer.run(range.from, range.state, range.claims, progress, true));
      return outcomes;
    })();
    const fromWorkers = running.then((runs) => settleAll(runs.map((run) => run.outcomes.catch(stopAll))));
    // Workers still opening the run when nothing is left to take stop at their next stage, not at the end of it.
    void own.finally(() => running.then((runs) => runs.forEach((run) => run.stopIfIdle()))).catch(() => undefined);
    const executors = await settleAll([own.catch(stopAll), fromWorkers.then((w) => w.flat()).catch(stopAll)]);
    const { divergence, outcome, segments: ran } = merge(executors.flat());
    let result: TrainResult | undefined;
    let firstDivergence = divergence;
    if (!firstDivergence) {
      result = replayer.result(outcome);
      if (manifest.result) {
        const difference = resultDifference(manifest.result, result);
        if (difference) firstDivergence = { step: result.steps, ...difference };
      }
    }
    const threads = 1 + (await fromWorkers).filter((w) => w.some((o) => o.steps > o.start)).length;
    return {
      runId: manifest.id,
      identical: firstDivergence === undefined,
      ...(firstDivergence ? { firstDivergence } : {}),
      steps: result?.steps ?? firstDivergence!.step,
      checkpointsCompared: ran.reduce((n, o) => n + o.compared, 0),
      segments: ran.length,
      threads,
      ...(threads < parallel ? { threadsNote: notes.length > 0 ? notes.join("; ") : "the other threads were ready only when too few steps were left to split" } : {}),
      backend: backend.name,
      originalBackend: manifest.backend,
      carls: packageVersions().carls,
      originalCarls: manifest.versions.carls,
      seconds: (performance.now() - started) / 1000,
      originalSeconds: manifest.seconds,
      originalRunSeconds: launchToEndSeconds(manifest),
    };
  } finally {
    replayer.close();
  }
}

/** Steps an executor may take: those its claims give, after `from`, resuming from `state` when `from` > 0. */
interface Range {
  readonly from: number;
  readonly state?: TrainerState;
  readonly claims: StepClaims;
}

/** The run's steps as the executors hold them: each one's claims, and where a new range may start. */
class RangeBook {
  private readonly claims: StepClaims[] = [];
  private states: ReadonlyMap<number, TrainerState> = new Map();
  // Claims only ever advance, so once nothing can be split nothing ever can again.
  private exhausted = false;

  /** The first executor's claims: every step of the run. */
  start(total: number): StepClaims {
    const first = StepClaims.create(0, total);
    this.claims.push(first);
    return first;
  }

  /** The trainer states ranges may resume from. */
  resumeFrom(states: ReadonlyMap<number, TrainerState>): void {
    this.states = states;
  }

  /** The second half of what the executor with the most steps left has left, from a state; undefined when nothing can be split. */
  take(): Range | undefined {
    while (!this.exhausted) {
      const split = splitLargest(this.claims, this.states);
      if (!split) this.exhausted = true;
      else if (split.victim.shrink(split.claimed, split.at)) {
        const taken = StepClaims.create(split.at, split.end);
        this.claims.push(taken);
        return { from: split.at, state: this.states.get(split.at)!, claims: taken };
      }
    }
    return undefined;
  }

  /** Ends every executor's range where it is, and hands out no more. */
  stopAll(): void {
    this.exhausted = true;
    for (const claim of this.claims) {
      for (let now = claim.read().claimed; !claim.shrink(now, now); now = claim.read().claimed);
    }
  }
}

/** The run's trainer-state range, or why segments cannot resume from it: runs recorded before carls kept states, or a state topic trimmed since. */
async function resumableRange(log: Log, manifest: RunManifest): Promise<{ range?: TopicRange; note?: string }> {
  const range = manifest.topics.find((t) => t.topic === trainerStateTopic(manifest.namespace));
  if (!range) return { note: "the run recorded no trainer state to resume segments from" };
  const problems = await rangeProblems(log, range);
  return problems.length > 0 ? { note: `its trainer state is gone (${problems.join("; ")})` } : { range };
}

/** The trainer states segments can resume from, by step, or why none could be read. */
interface Resumable {
  readonly states: Map<number, TrainerState>;
  readonly note?: string;
}

/** The trainer states a segment can resume from: checkpoint steps after 0 and before the last. */
async function readResumableStates(log: Log, manifest: RunManifest, range: TopicRange): Promise<Resumable> {
  let states: Map<number, TrainerState>;
  try {
    states = await readTrainerStates(log, manifest.namespace, range.from[0] ?? 0, range.to[0] ?? 0);
  } catch (error) {
    return { states: new Map(), note: `its trainer state could not be read (${error instanceof Error ? error.message : String(error)})` };
  }
  const last = manifest.result?.steps ?? manifest.trainer.steps;
  for (const step of states.keys()) if (step >= last) states.delete(step);
  return { states };
}

/**
 * Where to split the executor with the most steps left: the resumable step nearest the middle of
 * what it has left. Its claims end there; the steps after it go to a new executor.
 */
function splitLargest(claims: readonly StepClaims[], states: ReadonlyMap<number, TrainerState>): { victim: StepClaims; claimed: number; end: number; at: number } | undefined {
  let best: { victim: StepClaims; claimed: number; end: number; at: number } | undefined;
  for (const victim of claims) {
    const { claimed, end } = victim.read();
    let at: number | undefined;
    for (const step of states.keys()) {
      // Both keep a step at least: the victim the one after its last claimed, the new executor the one after the split.
      if (step <= claimed || step >= end) continue;
      // Of two as near, the later: the new executor opens its bank views first, the victim goes straight on.
      if (at === undefined || Math.abs(step - (claimed + end) / 2) <= Math.abs(at - (claimed + end) / 2)) at = step;
    }
    if (at !== undefined && (!best || end - claimed > best.end - best.claimed)) best = { victim, claimed, end, at };
  }
  return best;
}

/** One worker as the coordinator drives it: its outcomes, and a stop for when nothing is left to take. */
interface WorkerRun {
  readonly outcomes: Promise<SegmentOutcome[]>;
  /** Tells the worker nothing is left unless it holds a range (it stops at its next stage of opening the run). */
  stopIfIdle(): void;
}

/**
 * Hands `worker` a range each time it is ready, until none is left: once `ready` has settled, and
 * only while the worker still runs (a range taken for a worker that has exited would be lost).
 * Nothing is left when `ready` failed. A worker that fails or is stopped while it holds no range
 * loses no step (`notes` says why it ended); one that fails in the middle of a range fails the
 * replay. A worker is never terminated: terminated inside a native call (its log closing) it can
 * abort the whole process; told that nothing is left, it stops at its next stage.
 */
function runWorker(worker: Worker, ready: Promise<unknown>, take: () => Range | undefined, onStep: () => void, notes: string[]): WorkerRun {
  let asking = false;
  let holding = false;
  let exited = false;
  let stopped = false;
  const outcomes = new Promise<SegmentOutcome[]>((resolve, reject) => {
    const done: SegmentOutcome[] = [];
    let failure: string | undefined;
    worker.on("message", (message: WorkerMessage) => {
      if (message.kind === "ready") {
        asking = true;
        void ready.then(
          () => true,
          () => false,
        ).then((open) => {
          asking = false;
          if (exited) return;
          const range = open ? take() : undefined;
          holding = range !== undefined;
          worker.postMessage((range ? { from: range.from, state: range.state!, claims: range.claims.buffer } : {}) satisfies Assignment);
        });
      } else if (message.kind === "step") onStep();
      else if (message.kind === "done") {
        holding = false;
        done.push(message.outcome);
      } else failure = message.message;
    });
    worker.on("error", (error) => (failure ??= error.message));
    worker.on("exit", (code) => {
      exited = true;
      if (holding) return reject(new Error(`replay worker failed: ${failure ?? `exit code ${code}`}`));
      if (failure && !stopped) notes.push(`a worker thread failed before it took steps: ${failure.split("\n")[0]}`);
      resolve(done);
    });
  });
  return {
    outcomes,
    stopIfIdle: () => {
      if (holding || asking || exited) return;
      stopped = true;
      worker.postMessage({} satisfies Assignment);
    },
  };
}

/** Waits for every promise; then the values, or the first rejection. */
async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** The segments as one run: the first divergence by step, or the whole run's outcome. */
function merge(all: readonly SegmentOutcome[]): { divergence?: Divergence; outcome: LoopOutcome; segments: readonly SegmentOutcome[] } {
  // A range can end before its first step when a stop cut it; the one from step 0 always counts (it checks step 0's checkpoint).
  const segments = all.filter((s) => s.start === 0 || s.steps > s.start || s.divergence).sort((a, b) => a.start - b.start || a.steps - b.steps);
  const divergence = segments.map((s) => s.divergence).filter((d) => d !== undefined).sort((a, b) => a.step - b.step)[0];
  let best = segments[0]!.best;
  for (const [i, segment] of segments.entries()) {
    const next = segments[i + 1];
    if (!divergence && next && segment.steps !== next.start) throw new Error(`replay: segments left steps ${segment.steps + 1}..${next.start} untaken`);
    if (segment.best.weights && segment.best.val > best.val) best = segment.best;
  }
  const last = segments[segments.length - 1]!;
  return { ...(divergence ? { divergence } : {}), outcome: { steps: last.steps, best, checkpoints: segments.reduce((n, s) => n + s.checkpoints, 0) }, segments };
}
