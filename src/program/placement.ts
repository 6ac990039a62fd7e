/** Where a launcher runs a node replica: the one part that differs between launchers. */
import { Cause, Exit } from "effect";
import type { LineSink } from "./node-output.ts";
import type { ProgramNode } from "./program.ts";
import { EXIT, type ReplicaSpec } from "./replica-spec.ts";

export type ReplicaExit = { readonly kind: "completed" } | { readonly kind: "stopped" } | { readonly kind: "failed"; readonly reason: string };

export interface StartedReplica {
  readonly exit: Promise<ReplicaExit>;
  /** Where it runs, for the status record a launcher writes for it. */
  readonly pid: number;
  /** The termination notice: stop between writes and exit. */
  terminate(): void;
  /** After the grace period. */
  kill(): void;
}

export interface Placement {
  start(node: ProgramNode, replica: number, restarts: number): StartedReplica;
}

/** What `threads` and `processes` need to start a replica elsewhere. */
export interface ChildPlacementOptions {
  readonly spec: Omit<ReplicaSpec, "node" | "replica" | "restarts">;
  readonly out: LineSink;
  readonly logDir?: string;
}

/** How a replica run as an effect ended: completed, interrupted (stopped), or failed with the first line of its cause. */
export function replicaExitOf(exit: Exit.Exit<unknown, unknown>): ReplicaExit {
  if (Exit.isSuccess(exit)) return { kind: "completed" };
  if (Exit.isInterrupted(exit)) return { kind: "stopped" };
  return { kind: "failed", reason: Cause.pretty(exit.cause).split("\n")[0] ?? "failed" };
}

/** How a worker thread's or child process's exit code (or signal) ends a replica. */
export function exitOf(code: number | null, signal: NodeJS.Signals | null): ReplicaExit {
  if (code === EXIT.completed) return { kind: "completed" };
  if (code === EXIT.stopped) return { kind: "stopped" };
  return { kind: "failed", reason: signal ? `killed by ${signal}` : `exited with code ${code}` };
}
