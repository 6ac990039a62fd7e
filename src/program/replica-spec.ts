/** How a launcher tells a worker thread, a child process or a pod which replica of which node to run. */
import type { LogConfig } from "../log/open-log.ts";
import type { ProgramConfig } from "./program.ts";

export interface ReplicaSpec {
  /** Absolute path of the program file. */
  readonly programFile: string;
  readonly config: ProgramConfig;
  readonly node: string;
  readonly replica: number;
  readonly instance?: string;
  readonly restarts: number;
  readonly log: LogConfig | string;
  readonly namespace: string;
  /** The launch this replica belongs to (see ReplicaStatus.launch). */
  readonly launch: string;
  /** When the launcher launched the program (epoch ms); absent under `cluster`, whose replicas start on their own. */
  readonly launchedAt?: number;
  /** After the node completes, keep running until terminated (under an orchestrator that restarts exited containers). */
  readonly hold?: boolean;
}

/** Exit codes of a replica's process or thread. */
export const EXIT = { completed: 0, failed: 1, stopped: 3 } as const;

export const REPLICA_ENV = "CARLS_REPLICA_SPEC";

/** The signals that ask a replica's process to stop. */
export const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;
