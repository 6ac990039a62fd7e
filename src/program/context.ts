/**
 * What a node gets where it runs: the log (opened in its own process), its namespace, replica and
 * configuration, and its handles resolved into topic names, bank views and RPC clients or servers.
 */
import { Effect, type Scope } from "effect";
import { neighbourBank, vectorBank, type NeighbourBankEffects, type VectorBankEffects } from "../bank/effect.ts";
import type { NeighbourBankViewOptions } from "../bank/neighbour-view.ts";
import type { VectorBankViewOptions } from "../bank/vector-view.ts";
import { LogService } from "../log/effect.ts";
import type { Log } from "../log/types.ts";
import { handleTopic, type BankHandle, type Handle, type ServiceApi, type ServiceHandle } from "./handles.ts";
import type { ProgramConfig } from "./program.ts";
import { asError, settled } from "./nodes.ts";
import { rpcClient, serveRpc, type RpcClient } from "./rpc.ts";

/** Where a node runs: what the launcher knows before the handles are resolved. */
export interface ContextParts {
  readonly program: string;
  readonly node: string;
  /** This replica's index among the node's replicas (under `cluster`, its position is unknown: 0). */
  readonly replica: number;
  readonly replicas: number;
  readonly namespace: string;
  readonly config: ProgramConfig;
  /** When the launcher launched the program (epoch ms); absent under `cluster`, whose replicas start on their own. */
  readonly launchedAt?: number;
  /** The log, opened in the process where the node runs. */
  readonly log: Log;
  /** Metrics for `carls status` (such as throughput, lag, step; `done` of `total` draws a progress bar); the latest values win. */
  report(metrics: Readonly<Record<string, number>>): void;
  /** A line in this node's log (prefixed with the node and replica). */
  info(message: string): void;
}

export interface NodeContext extends ContextParts {
  /** The full topic name behind a handle. */
  topic(handle: Handle): string;
  /** Opens a bank view for the rest of the node's scope. */
  vectorBank(handle: BankHandle, options?: VectorBankViewOptions): Effect.Effect<VectorBankEffects, Error, Scope.Scope>;
  neighbourBank(handle: BankHandle, options?: NeighbourBankViewOptions): Effect.Effect<NeighbourBankEffects, Error, Scope.Scope>;
  /** Answers calls to the service until interrupted (fork it to do other work beside); fails if serving fails. */
  serve<Api extends ServiceApi>(handle: ServiceHandle<Api>, api: Api): Effect.Effect<void, Error>;
  client<Api extends ServiceApi>(handle: ServiceHandle<Api>): Effect.Effect<RpcClient<Api>, Error, Scope.Scope>;
}

export function nodeContext(parts: ContextParts): NodeContext {
  const { log, namespace } = parts;
  const expectBank = (handle: BankHandle, values: BankHandle["values"]) =>
    handle.values === values ? Effect.void : Effect.fail(new Error(`bank ${handle.name} holds ${handle.values} values, not ${values}`));
  return {
    ...parts,
    topic: (handle) => handleTopic(namespace, handle),
    vectorBank: (handle, options) => expectBank(handle, "vector").pipe(Effect.zipRight(vectorBank(namespace, handle.name, options)), Effect.provideService(LogService, log)),
    neighbourBank: (handle, options) => expectBank(handle, "neighbours").pipe(Effect.zipRight(neighbourBank(namespace, handle.name, options)), Effect.provideService(LogService, log)),
    serve: (handle, api) => settled((signal) => serveRpc(log, namespace, handle, api, signal)),
    client: (handle) =>
      Effect.acquireRelease(
        Effect.tryPromise({ try: () => rpcClient(log, namespace, handle), catch: asError }),
        (client) => Effect.promise(() => client.close()),
      ),
  };
}
