/**
 * A replay executor on a worker thread: opens the run (its own log connection, backend, graph and
 * model), then, for as long as the coordinator hands it ranges of steps, replays one and posts its
 * outcome. See replay.ts.
 */
import { parentPort, workerData } from "node:worker_threads";
import { initBackend } from "../../graph/gnn/backend.ts";
import { reopenLog, type LogLocation } from "../log/location.ts";
import type { TrainerState } from "../trainer/state.ts";
import { StepClaims } from "./claims.ts";
import type { RunManifest } from "./manifest.ts";
import { SegmentReplayer, type SegmentOutcome } from "./segment.ts";

export interface WorkerData {
  readonly location: LogLocation;
  readonly manifest: RunManifest;
}

/** The range handed to a ready worker, or nothing left to take. */
export type Assignment = { readonly from: number; readonly state: TrainerState; readonly claims: SharedArrayBuffer } | { readonly from?: undefined };

export type WorkerMessage = { readonly kind: "ready" } | { readonly kind: "step" } | { readonly kind: "done"; readonly outcome: SegmentOutcome } | { readonly kind: "failed"; readonly message: string };

const port = parentPort!;
const post = (message: WorkerMessage) => port.postMessage(message);
const { location, manifest } = workerData as WorkerData;

try {
  const log = await reopenLog(location);
  try {
    await initBackend();
    const replayer = await SegmentReplayer.open(log, manifest, { checkGraph: false });
    try {
      for (;;) {
        const assignment = new Promise<Assignment>((resolve) => port.once("message", resolve));
        post({ kind: "ready" });
        const range = await assignment;
        if (range.from === undefined) break;
        post({ kind: "done", outcome: await replayer.run(range.from, range.state, new StepClaims(range.claims), () => post({ kind: "step" })) });
      }
    } finally {
      replayer.close();
    }
  } finally {
    await log.close();
  }
} catch (error) {
  post({ kind: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}
