/**
 * A replay executor on a worker thread: opens its own log connection (for the banks' history) and
 * backend while the coordinator opens the run, builds its model from what the coordinator read
 * (the graph, step records and checkpoints, handed over), then, for as long as the coordinator
 * hands it ranges of steps, replays one and posts its outcome. See replay.ts.
 */
import { parentPort, workerData } from "node:worker_threads";
import { initBackend } from "../../graph/gnn/backend.ts";
import { reopenLog, type LogLocation } from "../log/location.ts";
import type { TrainerState } from "../trainer/state.ts";
import { StepClaims } from "./claims.ts";
import type { RunManifest } from "./manifest.ts";
import { SegmentReplayer, type ReplayHandover, type SegmentOutcome } from "./segment.ts";

export interface WorkerData {
  readonly location: LogLocation;
  readonly manifest: RunManifest;
}

/** The range handed to a ready worker, or nothing left to take. */
export type Assignment = { readonly from: number; readonly state: TrainerState; readonly claims: SharedArrayBuffer } | { readonly from?: undefined };

/** What the coordinator posts: what it read of the run (once, as soon as it has), then assignments. */
export type CoordinatorMessage = { readonly kind: "handover"; readonly handover: ReplayHandover } | Assignment;

export type WorkerMessage = { readonly kind: "ready" } | { readonly kind: "step" } | { readonly kind: "done"; readonly outcome: SegmentOutcome } | { readonly kind: "failed"; readonly message: string };

const port = parentPort!;
const post = (message: WorkerMessage) => port.postMessage(message);
const { location, manifest } = workerData as WorkerData;

// The coordinator hands over what it read of the run, then answers each "ready" with a range or
// with nothing left; it may say "nothing left" before it is asked, while this worker still opens
// the run: it then stops at the next stage. Stopping on its own, never terminated, it never dies
// inside a native call (a log closing).
let stopped = false;
let answer: ((assignment: Assignment) => void) | undefined;
let handedOver: (handover: ReplayHandover | undefined) => void;
const handover = new Promise<ReplayHandover | undefined>((resolve) => (handedOver = resolve));
const onMessage = (message: CoordinatorMessage) => {
  if ("kind" in message) handedOver(message.handover);
  else if (answer) {
    const resolve = answer;
    answer = undefined;
    resolve(message);
  } else if (message.from === undefined) {
    stopped = true;
    handedOver(undefined);
  }
};
port.on("message", onMessage);

const nextRange = (): Promise<Assignment> => {
  if (stopped) return Promise.resolve({});
  const assignment = new Promise<Assignment>((resolve) => (answer = resolve));
  post({ kind: "ready" });
  return assignment;
};

try {
  const log = await reopenLog(location);
  try {
    if (!stopped) await initBackend();
    const read = stopped ? undefined : await handover;
    const replayer = read && SegmentReplayer.fromHandover(log, manifest, read);
    try {
      for (let range = await nextRange(); replayer && range.from !== undefined; range = await nextRange()) {
        post({ kind: "done", outcome: await replayer.run(range.from, range.state, new StepClaims(range.claims), () => post({ kind: "step" })) });
      }
    } finally {
      replayer?.close();
    }
  } finally {
    await log.close();
  }
} catch (error) {
  post({ kind: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
} finally {
  port.off("message", onMessage);
}
