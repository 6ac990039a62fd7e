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
import { EXIT, type ReplicaSpec } from "./replica-spec.ts";
import { runReplica } from "./run-replica.ts";

export async function runReplicaMain(spec: ReplicaSpec): Promise<number> {
  // Listening first: a stop that comes while the replica still loads is a stop, not a kill by signal.
  let stopRequested = false;
  let interrupt: (() => void) | undefined;
  onStopRequest(() => {
    stopRequested = true;
    interrupt?.();
  });
  const log = await openLog(spec.log);
  let code: number = EXIT.failed;
  try {
    const program = await loadProgram(spec.programFile, spec.config);
    const node = findNode(program, spec.node);
    if (stopRequested) return (code = EXIT.stopped);
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
    process.stderr.write(`${spec.node}/${spec.replica} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  } finally {
    await log.close();
  }
  return code;
}

function onStopRequest(handler: () => void): void {
  if (isMainThread) {
    process.once("SIGTERM", handler);
    process.once("SIGINT", handler);
  } else {
    parentPort!.on("message", (message: unknown) => {
      if (message === "terminate") handler();
    });
  }
}
