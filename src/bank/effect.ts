/**
 * The knowledge bank as effect values: views and writers are scoped resources (opened when
 * acquired, closed when their scope ends) and every operation is an effect failing with
 * `BankError`. The same operations as the Promise API, for programs built from effect values.
 */
import { Data, Effect, type Scope } from "effect";
import { LogService } from "../log/effect.ts";
import type { AwaitOptions } from "./follower.ts";
import type { LookupOptions, LookupResult, LookupResultWithSteps } from "./vector-store.ts";
import { NeighbourBankView, type NeighbourBankViewOptions } from "./neighbour-view.ts";
import { VectorBankView, type Neighbour, type VectorBankViewOptions } from "./vector-view.ts";
import type { BankVersion, BankView } from "./view.ts";
import { BankWriter, type BankWriterOptions, type NeighbourUpsert, type VectorUpsert } from "./writer.ts";
import type { NeighbourList } from "../schema/neighbour-list.ts";

export class BankError extends Data.TaggedError("BankError")<{ readonly bank: string; readonly message: string; readonly cause: unknown }> {}

const attempt = <A>(bank: string, run: (signal: AbortSignal) => Promise<A>): Effect.Effect<A, BankError> =>
  Effect.tryPromise({
    try: (signal) => run(signal),
    catch: (cause) => new BankError({ bank, message: cause instanceof Error ? cause.message : String(cause), cause }),
  });

const attemptSync = <A>(bank: string, run: () => A): Effect.Effect<A, BankError> =>
  Effect.try({ try: run, catch: (cause) => new BankError({ bank, message: cause instanceof Error ? cause.message : String(cause), cause }) });

/** What every view offers. Interrupting `awaitVersion` stops the wait. */
export interface BankViewEffects {
  readonly version: Effect.Effect<BankVersion>;
  readonly lag: Effect.Effect<number>;
  awaitVersion(step: number, options?: Omit<AwaitOptions, "signal"> & { readonly minKeys?: number }): Effect.Effect<void, BankError>;
  readonly catchUp: Effect.Effect<void, BankError>;
}

export interface VectorBankEffects extends BankViewEffects {
  readonly view: VectorBankView;
  lookup(keys: readonly string[], options: LookupOptions & { readonly steps: true }): Effect.Effect<LookupResultWithSteps, BankError>;
  lookup(keys: readonly string[], options?: LookupOptions): Effect.Effect<LookupResult, BankError>;
  nearest(vector: Float32Array, k: number): Effect.Effect<Neighbour[], BankError>;
  nearestOfKeys(keys: readonly string[], k: number): Effect.Effect<Neighbour[][], BankError>;
  snapshot(path: string): Effect.Effect<void, BankError>;
}

export interface NeighbourBankEffects extends BankViewEffects {
  readonly view: NeighbourBankView;
  get(key: string): Effect.Effect<NeighbourList | undefined>;
}

export interface BankWriterEffects {
  upsertVectors(entries: readonly VectorUpsert[], step: number): Effect.Effect<void, BankError>;
  upsertNeighbours(entries: readonly NeighbourUpsert[], step: number): Effect.Effect<void, BankError>;
  delete(keys: readonly string[]): Effect.Effect<void, BankError>;
}

function viewEffects(view: BankView): BankViewEffects {
  return {
    version: Effect.sync(() => view.version()),
    lag: Effect.sync(() => view.lag()),
    awaitVersion: (step, options = {}) => attempt(view.name, (signal) => view.awaitVersion(step, { ...options, signal })),
    catchUp: attempt(view.name, () => view.catchUp()),
  };
}

const scopedView = <V extends BankView>(name: string, open: () => Promise<V>): Effect.Effect<V, BankError, Scope.Scope> =>
  Effect.acquireRelease(attempt(name, open), (view) => Effect.promise(() => view.close()));

/** A vector bank view of the log in `LogService`, closed when the scope ends. */
export const vectorBank = (namespace: string, name: string, options: VectorBankViewOptions = {}): Effect.Effect<VectorBankEffects, BankError, LogService | Scope.Scope> =>
  Effect.flatMap(LogService, (log) =>
    Effect.map(scopedView(name, () => VectorBankView.open(log, namespace, name, options)), (view) => ({
      ...viewEffects(view),
      view,
      lookup: ((keys: readonly string[], lookupOptions: LookupOptions = {}) => attemptSync(name, () => view.lookup(keys, lookupOptions))) as VectorBankEffects["lookup"],
      nearest: (vector, k) => attempt(name, () => view.nearest(vector, k)),
      nearestOfKeys: (keys, k) => attempt(name, () => view.nearestOfKeys(keys, k)),
      snapshot: (path) => attempt(name, () => view.snapshot(path)),
    })),
  );

/** A neighbour bank view of the log in `LogService`, closed when the scope ends. */
export const neighbourBank = (namespace: string, name: string, options: NeighbourBankViewOptions = {}): Effect.Effect<NeighbourBankEffects, BankError, LogService | Scope.Scope> =>
  Effect.flatMap(LogService, (log) =>
    Effect.map(scopedView(name, () => NeighbourBankView.open(log, namespace, name, options)), (view) => ({
      ...viewEffects(view),
      view,
      get: (key) => Effect.sync(() => view.get(key)),
    })),
  );

/** A writer to a bank of the log in `LogService`. */
export const bankWriter = (namespace: string, name: string, options: BankWriterOptions = {}): Effect.Effect<BankWriterEffects, BankError, LogService> =>
  Effect.flatMap(LogService, (log) =>
    Effect.map(attempt(name, () => BankWriter.open(log, namespace, name, options)), (writer) => ({
      upsertVectors: (entries, step) => attempt(name, () => writer.upsertVectors(entries, step)),
      upsertNeighbours: (entries, step) => attempt(name, () => writer.upsertNeighbours(entries, step)),
      delete: (keys) => attempt(name, () => writer.delete(keys)),
    })),
  );
