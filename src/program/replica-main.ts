/**
 * The entry of a replica that runs outside the launcher's process: a worker thread (`threads`), a
 * child process (`processes`), or a pod (`cluster`, through `carls node`). It opens its own log,
 * rebuilds the program from its file and configuration, and runs its node until it completes or
 * is told to stop (SIGTERM or SIGINT; a `terminate` message on a thread).
 */
import { isMainThread, parentPort } from "node:worker_threads";
import { Effect, Exit, Fiber } from "effect";
import { openLog } from "../log/open-log.ts";
import { loadProgram } from "./load.ts";
import { findNode } from "./program.ts";
import { EXIT, STOP_SIGNALS, type ReplicaSpec } from "./replica-spec.ts";
import { runReplica } from "./run-replica.ts";

export async function runReplicaMain(spec: ReplicaSpec): Promise<number> {
  // Listening first: a stop that comes while the replica still loads ends it there, as stopped
  // (opening the log or a program file's top-level code cannot be cancelled, only left behind).
  let interrupt: (() => void) | undefined;
  let stopRequested = false;
  let requestStop = () => {};
  const stopping = new Promise<typeof STOPPED>((resolve) => (requestStop = () => resolve(STOPPED)));
  onStopRequest(() => {
    stopRequested = true;
    requestStop();
    interrupt?.();
  });
  const opening = openLog(spec.log);
  const failed = (error: unknown) => process.stderr.write(`${spec.node}/${spec.replica} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  const log = await Promise.race([opening, stopping]).catch((error: unknown) => void failed(error));
  if (log === STOPPED) {
    void opening.then((late) => late.close()).catch(() => undefined);
    return EXIT.stopped;
  }
  if (log === undefined) return EXIT.failed;
  let code: number = EXIT.failed;
  try {
    const program = await Promise.race([loadProgram(spec.programFile, spec.config), stopping]);
    if (program === STOPPED) return EXIT.stopped;
    const node = findNode(program, spec.node);
    const fiber = Effect.runFork(
      runReplica({
        program,
        node,
        replica: spec.replica,
        ...(spec.instance !== undefined ? { instance: spec.instance } : {}),
        restarts: spec.restarts,
        log,
        namespace: spec.namespace,
        launch: spec.launch,
        launchedAt: spec.launchedAt,
        config: spec.config,
        write: (line) => process.stdout.write(`${line}\n`),
      }),
    );
    interrupt = () => void Effect.runPromise(Fiber.interrupt(fiber));
    const exit = await Effect.runPromise(Fiber.await(fiber));
    if (Exit.isSuccess(exit)) code = EXIT.completed;
    else if (Exit.isInterrupted(exit)) code = EXIT.stopped;
    else process.stderr.write(`${spec.node}/${spec.replica} failed: ${String(Exit.isFailure(exit) ? exit.cause : "")}\n`);
    if (code === EXIT.completed && spec.hold && !stopRequested) await new Promise<void>((resolve) => onStopRequest(resolve));
  } catch (error) {
    failed(error);
  } finally {
    await log.close();
  }
  return code;
}

const STOPPED = Symbol("stopped");

function onStopRequest(handler: () => void): void {
  if (isMainThread) {
    for (const signal of STOP_SIGNALS) process.once(signal, handler);
  } else {
    parentPort!.on("message", (message: unknown) => {
      if (message === "terminate") handler();
    });
  }
}
