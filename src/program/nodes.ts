/** Node bodies from promise APIs, for code that is not written with effect. */
import { Effect } from "effect";
import type { NodeContext } from "./context.ts";
import type { NodeRun } from "./program.ts";

export const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * Promise work as an effect. Interrupting it aborts `signal` and then waits for the work to settle,
 * so a node stops between its writes, never in the middle of one.
 */
export const settled = <A>(work: (signal: AbortSignal) => Promise<A>): Effect.Effect<A, Error> =>
  Effect.async<A, Error>((resume) => {
    const controller = new AbortController();
    const running = work(controller.signal);
    running.then(
      (value) => resume(Effect.succeed(value)),
      (error: unknown) => resume(Effect.fail(asError(error))),
    );
    return Effect.promise(() => {
      controller.abort();
      return running.then(
        () => undefined,
        () => undefined,
      );
    });
  });

/** A node that does a finite job (an ingest, a training run); stopping it aborts `signal`. */
export const task =
  (work: (context: NodeContext, signal: AbortSignal) => Promise<void>): NodeRun =>
  (context) =>
    settled((signal) => work(context, signal));

/** Something long-running with a promise API, such as a running maker. */
export interface Daemon {
  /** Settles when it stops; rejects if it failed. */
  readonly done: Promise<void>;
  /** Stops it and waits until it has. */
  stop(): Promise<void>;
}

/** A node that runs a daemon until the node is stopped (then it stops the daemon) or the daemon fails. */
export const daemon =
  (start: (context: NodeContext) => Promise<Daemon>): NodeRun =>
  (context) =>
    Effect.acquireRelease(settled(() => start(context)), (running) => Effect.promise(() => running.stop().catch(() => undefined))).pipe(
      Effect.flatMap((running) => Effect.tryPromise({ try: () => running.done, catch: asError })),
    );
