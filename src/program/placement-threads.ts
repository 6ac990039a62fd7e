/** `threads`: every replica on its own worker thread, with its own log connection. */
import { Worker } from "node:worker_threads";
import { tsWorkerSource } from "../ts-worker.ts";
import { forwardLines, nodeLines } from "./node-output.ts";
import { exitOf, type ChildPlacementOptions, type Placement, type ReplicaExit } from "./placement.ts";
import type { ReplicaSpec } from "./replica-spec.ts";

const BOOTSTRAP = tsWorkerSource(new URL("./replica-entry.ts", import.meta.url));

export function threadsPlacement(options: ChildPlacementOptions): Placement {
  return {
    start(node, replica, restarts) {
      const spec: ReplicaSpec = { ...options.spec, node: node.name, replica, restarts };
      const worker = new Worker(BOOTSTRAP, { eval: true, workerData: spec, stdout: true, stderr: true });
      const lines = nodeLines(options.out, node.name, replica, options.logDir);
      forwardLines(worker.stdout, lines);
      forwardLines(worker.stderr, lines);
      let lastError = "";
      worker.on("error", (error) => (lastError = error.message));
      const exit = new Promise<ReplicaExit>((resolve) =>
        worker.on("exit", (code) => {
          const result = exitOf(code, null);
          resolve(result.kind === "failed" && lastError ? { kind: "failed", reason: lastError } : result);
        }),
      );
      return {
        exit,
        pid: process.pid,
        terminate: () => worker.postMessage("terminate"),
        kill: () => void worker.terminate(),
      };
    },
  };
}
