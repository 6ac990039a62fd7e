import { Context, Effect, Layer } from "effect";
import { LogError } from "./errors.ts";
import { openLog, type LogConfig } from "./open-log.ts";
import type { Log } from "./types.ts";

/** The streaming store as an effect service, for programs built from effect values. */
export class LogService extends Context.Tag("carls/Log")<LogService, Log>() {}

const asLogError = (error: unknown): LogError =>
  error instanceof LogError ? error : new LogError("InvalidArgument", String(error), { cause: error });

/** A scoped layer: the log is opened when the layer is built and closed when its scope ends. */
export const logLayer = (config: LogConfig | string): Layer.Layer<LogService, LogError> =>
  Layer.scoped(
    LogService,
    Effect.acquireRelease(
      Effect.tryPromise({ try: () => openLog(config), catch: asLogError }),
      (log) => Effect.promise(() => log.close()),
    ),
  );

/** Runs one Promise operation of the log as an effect, failing with its `LogError`. */
export const withLog = <A>(operation: (log: Log) => Promise<A>): Effect.Effect<A, LogError, LogService> =>
  Effect.flatMap(LogService, (log) => Effect.tryPromise({ try: () => operation(log), catch: asLogError }));
