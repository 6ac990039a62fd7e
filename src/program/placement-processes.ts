/** `processes`: every replica in its own child process on this host, sharing the embedded store or a Kafka cluster. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { forwardLines, nodeLines } from "./node-output.ts";
import { exitOf, type ChildPlacementOptions, type Placement, type ReplicaExit } from "./placement.ts";
import { REPLICA_ENV, type ReplicaSpec } from "./replica-spec.ts";

const ENTRY = fileURLToPath(new URL("./replica-entry.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");

export function processesPlacement(options: ChildPlacementOptions): Placement {
  return {
    start(node, replica, restarts) {
      const spec: ReplicaSpec = { ...options.spec, node: node.name, replica, restarts };
      const child = spawn(process.execPath, ["--import", TSX, ENTRY], { env: { ...process.env, [REPLICA_ENV]: JSON.stringify(spec) }, stdio: ["ignore", "pipe", "pipe"] });
      const lines = nodeLines(options.out, node.name, replica, options.logDir);
      forwardLines(child.stdout, lines);
      forwardLines(child.stderr, lines);
      const exit = new Promise<ReplicaExit>((resolve) => {
        child.on("error", (error) => resolve({ kind: "failed", reason: error.message }));
        child.on("exit", (code, signal) => resolve(exitOf(code, signal)));
      });
      return {
        exit,
        pid: child.pid ?? -1,
        terminate: () => void child.kill("SIGTERM"),
        kill: () => void child.kill("SIGKILL"),
      };
    },
  };
}
