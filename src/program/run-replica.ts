/**
 * Runs one replica of one node, wherever a launcher placed it (a fiber, a worker thread, a process,
 * a pod): it waits for the nodes it runs after, then runs the node's effect in its own scope, and
 * keeps its status record current (state, restarts, the metrics it reports) in the status topic.
 */
import { hostname } from "node:os";
import { threadId } from "node:worker_threads";
import { Effect, Schedule } from "effect";
import type { Log } from "../log/types.ts";
import { nodeContext, type NodeContext } from "./context.ts";
import { replicaExitOf } from "./placement.ts";
import type { Program, ProgramConfig, ProgramNode } from "./program.ts";
import { ensureStatusTopic, nodeCompleted, publishStatus, StatusReader, type ReplicaState } from "./status.ts";

export interface ReplicaPlacement {
  readonly program: Program;
  readonly node: ProgramNode;
  readonly replica: number;
  /** Its key in the status topic (default: the replica index). */
  readonly instance?: string;
  /** How many times the launcher has restarted it. */
  readonly restarts: number;
  readonly log: Log;
  readonly namespace: string;
  readonly launch: string;
  /** When the launcher launched the program (epoch ms), when one did. */
  readonly launchedAt?: number;
  readonly config: ProgramConfig;
  /** Where the node's `info` lines go. */
  readonly write: (line: string) => void;
}

export function runReplica(placement: ReplicaPlacement): Effect.Effect<void, unknown> {
  const { program, node, log, namespace } = placement;
  const instance = placement.instance ?? String(placement.replica);
  let metrics: Readonly<Record<string, number>> = {};
  // Retried, then given up with a line in the node's log: a status record is never worth failing the node for.
  const publish = (state: ReplicaState, error?: string) =>
    Effect.tryPromise(() =>
      publishStatus(log, namespace, {
        node: node.name,
        instance,
        launch: placement.launch,
        state,
        restarts: placement.restarts,
        host: hostname(),
        pid: process.pid,
        ...(threadId !== 0 ? { thread: threadId } : {}),
        updatedAt: Date.now(),
        metrics,
        ...(error !== undefined ? { error } : {}),
      }),
    ).pipe(
      Effect.retry(Schedule.intersect(Schedule.exponential("100 millis"), Schedule.recurs(4))),
      Effect.catchAll((failure) => Effect.sync(() => placement.write(`status ${state} not published: ${String(failure.error)}`))),
    );
  const context = nodeContext({
    program: program.name,
    node: node.name,
    replica: placement.replica,
    replicas: node.replicas,
    namespace,
    config: placement.config,
    launchedAt: placement.launchedAt,
    log,
    report: (latest) => {
      metrics = { ...metrics, ...latest };
    },
    info: placement.write,
  });
  const predecessors = program.nodes.filter((n) => node.after.includes(n.name));
  const reader = new StatusReader(log, namespace, placement.launch);
  const awaitPredecessors = Effect.promise(() => reader.read()).pipe(
    Effect.repeat({ until: (status) => predecessors.every((p) => nodeCompleted(status, p.name, p.replicas)), schedule: Schedule.spaced("250 millis") }),
  );
  // Uninterruptible, so a heartbeat in flight lands before the final state, never after it.
  const heartbeat = Effect.uninterruptible(publish("running")).pipe(Effect.repeat(Schedule.spaced("1 second")));

  return Effect.gen(function* () {
    yield* Effect.promise(() => ensureStatusTopic(log, namespace));
    if (predecessors.length > 0) {
      yield* publish("waiting");
      yield* awaitPredecessors;
    }
    yield* Effect.scoped(Effect.zipRight(Effect.forkScoped(heartbeat), bodyOf(node, context)));
  }).pipe(
    Effect.onExit((exit) => {
      const ended = replicaExitOf(exit);
      return publish(ended.kind, ended.kind === "failed" ? ended.reason : undefined);
    }),
  );
}

/** The node's run as an effect, or a failure that says how to write one when it returned something else (a promise, most often). */
function bodyOf(node: ProgramNode, context: NodeContext): Effect.Effect<void, unknown> {
  const body: unknown = node.run(context);
  if (Effect.isEffect(body)) return body as Effect.Effect<void, unknown>;
  // Already running: its failure is reported below, not left unhandled to end the process.
  if (body instanceof Promise) body.catch(() => undefined);
  const what = body instanceof Promise ? "a Promise" : body === undefined ? "nothing" : `a ${typeof body}`;
  return Effect.fail(new Error(`node ${node.name}: run returned ${what}, not an Effect; wrap promise code in task(async (ctx, signal) => ...) or daemon(async (ctx) => ...)`));
}
