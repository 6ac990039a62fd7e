/** `threads`: every replica on its own worker thread, with its own log connection. */
import { Worker } from "node:worker_threads";
import { forwardLines, nodeLines } from "./node-output.ts";
import { exitOf, type ChildPlacementOptions, type Placement, type ReplicaExit } from "./placement.ts";
import type { ReplicaSpec } from "./replica-spec.ts";

// A worker's entry is not loaded through tsx hooks inherited from the parent (node 20), so it
// starts from this bootstrap, which imports the .ts entry through tsx's own API.
const BOOTSTRAP = (() => {
  const entry = JSON.stringify(new URL("./replica-entry.ts", import.meta.url).href);
  return `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => tsx.tsImport(${entry}, ${entry}))`;
})();

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
