/** `inline` (and `test`): every replica as a fiber in this process, sharing one log. */
import { Effect, Fiber } from "effect";
import type { Log } from "../log/types.ts";
import { nodeLines, type LineSink } from "./node-output.ts";
import { replicaExitOf, type Placement, type ReplicaExit } from "./placement.ts";
import type { NodeRun, Program, ProgramConfig } from "./program.ts";
import { runReplica } from "./run-replica.ts";

export interface InlinePlacementOptions {
  readonly program: Program;
  readonly config: ProgramConfig;
  readonly log: Log;
  readonly namespace: string;
  readonly launch: string;
  readonly launchedAt: number;
  readonly out: LineSink;
  readonly logDir?: string;
  /** `test`: node bodies that replace the program's, by node name. */
  readonly stubs?: Readonly<Record<string, NodeRun>>;
}

export function inlinePlacement(options: InlinePlacementOptions): Placement {
  return {
    start(node, replica, restarts) {
      const stub = options.stubs?.[node.name];
      const fiber = Effect.runFork(
        runReplica({
          program: options.program,
          node: stub ? { ...node, run: stub } : node,
          replica,
          restarts,
          log: options.log,
          namespace: options.namespace,
          launch: options.launch,
          launchedAt: options.launchedAt,
          config: options.config,
          write: nodeLines(options.out, node.name, replica, options.logDir),
        }),
      );
      let abandon: (exit: ReplicaExit) => void = () => {};
      const abandoned = new Promise<ReplicaExit>((resolve) => (abandon = resolve));
      const finished = Effect.runPromise(Fiber.await(fiber)).then(replicaExitOf);
      return {
        exit: Promise.race([finished, abandoned]),
        pid: process.pid,
        terminate: () => void Effect.runFork(Fiber.interrupt(fiber)),
        // A fiber cannot be killed: it is left to finish on its own, and the launcher moves on.
        kill: () => abandon({ kind: "failed", reason: "did not stop within the grace period" }),
      };
    },
  };
}
