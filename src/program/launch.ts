/**
 * Launchers. `launch` places every replica of every node (as fibers, worker threads or child
 * processes), supervises them (restart policies, critical nodes, the stop condition), and stops
 * the program cleanly: a termination notice to every replica, then a kill after the grace period.
 * The `cluster` launcher has no supervisor here: see `emit.ts`.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { openLog, type LogConfig } from "../log/open-log.ts";
import type { Log } from "../log/types.ts";
import { loadProgram } from "./load.ts";
import type { LineSink } from "./node-output.ts";
import type { Placement, ReplicaExit, StartedReplica } from "./placement.ts";
import { inlinePlacement } from "./placement-inline.ts";
import { processesPlacement } from "./placement-processes.ts";
import { threadsPlacement } from "./placement-threads.ts";
import type { NodeRun, Program, ProgramConfig, ProgramNode } from "./program.ts";
import { ensureStatusTopic, publishStatus, StatusReader, type ReplicaStatus } from "./status.ts";

import { LAUNCHERS, type LauncherKind } from "./launchers.ts";
import { checkNamespace } from "../schema/namespace.ts";

export { LAUNCHERS, type LauncherKind };

export interface LaunchOptions {
  /** Default `inline`. */
  readonly launcher?: LauncherKind;
  /** A program file (every launcher), or a program value (`inline` and `test` only: other processes cannot rebuild a value). */
  readonly program: string | Program;
  readonly config?: ProgramConfig;
  /** Where the topics live. `threads` and `processes` need a location they can open; `inline` and `test` also take an open log. */
  readonly log: LogConfig | string | Log;
  /** Default `<program name>-<random id>`. */
  readonly namespace?: string;
  /** How long replicas get to stop after the termination notice (default 10 s). */
  readonly graceMs?: number;
  /** Also write each replica's lines to `<logDir>/<node>.<replica>.log`. */
  readonly logDir?: string;
  /** Default: stdout. */
  readonly out?: LineSink;
  /** Stop the program (as completed) when this holds for the status of its replicas. */
  readonly stopWhen?: (status: ReadonlyMap<string, ReplicaStatus>) => boolean;
  /** `test`: node bodies that replace the program's, by node name. */
  readonly stubs?: Readonly<Record<string, NodeRun>>;
}

export interface ProgramOutcome {
  readonly state: "completed" | "failed" | "stopped";
  readonly reason: string;
  /** How each replica ended, by `node/replica`. */
  readonly replicas: Readonly<Record<string, { readonly exit: ReplicaExit; readonly restarts: number }>>;
  /** Replicas still running at the end of the grace period, which were killed. */
  readonly killed: readonly string[];
  readonly seconds: number;
}

export interface RunningProgram {
  readonly program: Program;
  readonly namespace: string;
  /** Settles when the program has completed, failed or been stopped, and every replica has exited. */
  readonly done: Promise<ProgramOutcome>;
  /** Sends the termination notice to every replica, kills what is left after the grace period. */
  stop(reason?: string): Promise<ProgramOutcome>;
  status(): Promise<ReadonlyMap<string, ReplicaStatus>>;
}

const isLog = (value: LaunchOptions["log"]): value is Log => typeof value === "object" && "produce" in value;

export async function launch(options: LaunchOptions): Promise<RunningProgram> {
  const launchedAt = Date.now();
  const kind = options.launcher ?? "inline";
  if (!LAUNCHERS.includes(kind)) throw new Error(`unknown launcher ${JSON.stringify(kind)}: use one of ${LAUNCHERS.join(", ")}`);
  const inProcess = kind === "inline" || kind === "test";
  if (!inProcess && typeof options.program !== "string") throw new Error(`the ${kind} launcher needs the program as a file, which its other ${kind} can load; a program value only runs inline`);
  if (!inProcess && isLog(options.log)) throw new Error(`the ${kind} launcher needs a log location (embedded:<dir> or kafka://...) that its ${kind} can open, not an open log`);
  if (kind !== "test" && options.stubs) throw new Error("stubs are for the test launcher");
  const config = options.config ?? {};
  const program = typeof options.program === "string" ? await loadProgram(options.program, config) : options.program;
  const namespace = checkNamespace(options.namespace ?? `${program.name}-${randomBytes(4).toString("hex")}`);
  const ownLog = !isLog(options.log);
  const log = isLog(options.log) ? options.log : await openLog(options.log);
  try {
    await ensureStatusTopic(log, namespace);
  } catch (error) {
    if (ownLog) await log.close();
    throw error;
  }
  // Tells this launch's status records from those of earlier launches in the same namespace.
  const launchId = randomBytes(6).toString("hex");
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const childOptions = () => ({
    spec: { programFile: resolve(options.program as string), config, log: options.log as LogConfig | string, namespace, launch: launchId, launchedAt },
    out,
    ...(options.logDir ? { logDir: options.logDir } : {}),
  });
  const placement: Placement =
    kind === "threads"
      ? threadsPlacement(childOptions())
      : kind === "processes"
        ? processesPlacement(childOptions())
        : inlinePlacement({ program, config, log, namespace, launch: launchId, launchedAt, out, ...(options.logDir ? { logDir: options.logDir } : {}), ...(options.stubs ? { stubs: options.stubs } : {}) });
  const supervisor = new Supervisor(program, placement, log, namespace, launchId, options.graceMs ?? 10_000, options.stopWhen);
  const done = supervisor.run().finally(async () => {
    if (ownLog) await log.close();
  });
  return { program, namespace, done, stop: (reason) => supervisor.stop(reason ?? "stop requested"), status: () => supervisor.status() };
}

class Supervisor {
  readonly #running = new Map<string, StartedReplica>();
  readonly #ended = new Map<string, { exit: ReplicaExit; restarts: number }>();
  readonly #reader: StatusReader;
  readonly #started = performance.now();
  #stopping = false;
  /** Aborted when the program ends: wakes restart backoffs. */
  readonly #ending = new AbortController();
  #end: ((outcome: { state: ProgramOutcome["state"]; reason: string }) => void) | undefined;
  #outcome: Promise<ProgramOutcome> | undefined;

  constructor(
    private readonly program: Program,
    private readonly placement: Placement,
    private readonly log: Log,
    private readonly namespace: string,
    private readonly launch: string,
    private readonly graceMs: number,
    private readonly stopWhen: LaunchOptions["stopWhen"],
  ) {
    this.#reader = new StatusReader(log, namespace, launch);
  }

  /** The status of this launch's replicas (records of earlier launches in the namespace left out). */
  status(): Promise<ReadonlyMap<string, ReplicaStatus>> {
    return this.#reader.read();
  }

  run(): Promise<ProgramOutcome> {
    this.#outcome ??= this.#run();
    return this.#outcome;
  }

  async stop(reason: string): Promise<ProgramOutcome> {
    this.#end?.({ state: "stopped", reason });
    return this.run();
  }

  async #run(): Promise<ProgramOutcome> {
    const ended = new Promise<{ state: ProgramOutcome["state"]; reason: string }>((resolve) => (this.#end = resolve));
    const terminal = this.program.nodes.filter((n) => n.terminal);
    const supervised = this.program.nodes.flatMap((node) => Array.from({ length: node.replicas }, (_, r) => ({ node, replica: r, done: this.#supervise(node, r) })));
    // Without terminal nodes, the program completes when every replica has ended.
    const watched = terminal.length > 0 ? terminal : this.program.nodes;
    const watchedReplicas = supervised.filter((s) => watched.includes(s.node));
    void Promise.all(watchedReplicas.map((s) => s.done)).then((exits) => {
      const unfinished = exits.flatMap((exit, i) => (exit.kind === "completed" ? [] : [{ key: `${watchedReplicas[i]!.node.name}/${watchedReplicas[i]!.replica}`, exit }]));
      // A replica that stopped without being asked to (a signal from outside) did not complete either.
      if (unfinished.length > 0) this.#end?.({ state: "failed", reason: unfinished.map(({ key, exit }) => `${key} ${exit.kind === "failed" ? exit.reason : "stopped without being asked to"}`).join("; ") });
      else this.#end?.({ state: "completed", reason: terminal.length > 0 ? `${terminal.map((n) => n.name).join(", ")} completed` : "every node completed" });
    });
    const watching = this.stopWhen ? this.#watch(this.stopWhen) : undefined;
    const outcome = await ended;
    this.#stopping = true;
    this.#ending.abort();
    const killed = await this.#terminateAll();
    await Promise.all(supervised.map((s) => s.done));
    await watching;
    return { ...outcome, replicas: Object.fromEntries(this.#ended), killed, seconds: (performance.now() - this.#started) / 1000 };
  }

  async #watch(stopWhen: NonNullable<LaunchOptions["stopWhen"]>): Promise<void> {
    while (!this.#stopping) {
      // A status read that fails is tried again on the next tick; a stop condition that throws ends the program.
      const status = await this.status().catch(() => undefined);
      if (status) {
        try {
          if (stopWhen(status)) this.#end?.({ state: "completed", reason: "its stop condition holds" });
        } catch (error) {
          this.#end?.({ state: "failed", reason: `the stop condition threw: ${error instanceof Error ? error.message : String(error)}` });
        }
      }
      await sleep(250, undefined, { signal: this.#ending.signal }).catch(() => undefined);
    }
  }

  /** Runs one replica under its node's restart policy; resolves with how it ended for good. */
  async #supervise(node: ProgramNode, replica: number): Promise<ReplicaExit> {
    const key = `${node.name}/${replica}`;
    let restarts = 0;
    for (;;) {
      let started: StartedReplica;
      try {
        started = this.placement.start(node, replica, restarts);
      } catch (error) {
        started = { exit: Promise.resolve({ kind: "failed", reason: `could not start: ${error instanceof Error ? error.message : String(error)}` }), pid: -1, terminate: () => {}, kill: () => {} };
      }
      this.#running.set(key, started);
      const exit = await started.exit;
      this.#running.delete(key);
      const policy = node.restart;
      const again = exit.kind === "failed" && !this.#stopping && policy.kind === "on-failure" && restarts < (policy.maxRestarts ?? Infinity);
      if (exit.kind === "failed") await this.#publish(node, replica, again ? "restarting" : "failed", restarts, started.pid, exit.reason);
      if (!again) {
        this.#ended.set(key, { exit, restarts });
        if (exit.kind === "failed" && !this.#stopping) {
          const waiting = this.program.nodes.filter((n) => n.after.includes(node.name)).map((n) => n.name);
          if (node.critical) this.#end?.({ state: "failed", reason: `critical node ${key} failed: ${exit.reason}` });
          else if (waiting.length > 0) this.#end?.({ state: "failed", reason: `${key} failed for good (${exit.reason}), so ${waiting.join(", ")}, which run after it, can never start` });
        }
        return exit;
      }
      const backoff = policy.kind === "on-failure" ? Math.min((policy.backoffMs ?? 500) * 2 ** restarts, policy.maxBackoffMs ?? 30_000) : 0;
      restarts++;
      await sleep(backoff, undefined, { signal: this.#ending.signal }).catch(() => undefined);
      if (this.#stopping) {
        this.#ended.set(key, { exit, restarts });
        return exit;
      }
    }
  }

  /** The launcher's word on a replica that could not write its own (it died, or is about to be restarted). */
  #publish(node: ProgramNode, replica: number, state: "restarting" | "failed", restarts: number, pid: number, error: string): Promise<void> {
    return publishStatus(this.log, this.namespace, { node: node.name, instance: String(replica), launch: this.launch, state, restarts, host: hostname(), pid, updatedAt: Date.now(), metrics: {}, error }).catch(() => undefined);
  }

  /** The termination notice to every running replica; after the grace period, kills what is left and returns their keys. */
  async #terminateAll(): Promise<string[]> {
    const running = [...this.#running.entries()];
    for (const [, replica] of running) replica.terminate();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"grace over">((r) => (timer = setTimeout(() => r("grace over"), this.graceMs)));
    const allExited = Promise.all(running.map(([, r]) => r.exit));
    const first = await Promise.race([allExited, graceOver]);
    clearTimeout(timer);
    if (first !== "grace over") return [];
    const killed: string[] = [];
    for (const [key, replica] of running) {
      if (this.#running.get(key) === replica) {
        killed.push(key);
        replica.kill();
      }
    }
    await allExited;
    return killed;
  }
}
