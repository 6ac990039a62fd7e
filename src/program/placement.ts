/** Where a launcher runs a node replica: the one part that differs between launchers. */
import type { ProgramNode } from "./program.ts";

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
