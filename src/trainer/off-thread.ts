/**
 * Knowledge terms whose constants are built off the trainer's thread. A worker follows the banks
 * and, whenever one moves, builds every term's constants (targets, pairs, pseudo-labels) and sends
 * them over; each step the trainer takes the newest it has received and records the bank versions
 * they came from. The step pays for a version check and, once per bank change, for receiving the
 * arrays; the lookups and rebuilding run beside it. Replay rebuilds the same constants on its own
 * thread from the recorded versions (they are a function of the graph and the banks' positions).
 */
import { Worker } from "node:worker_threads";
import type { GraphStore } from "../../graph/store/graph-store.ts";
import { bankNameOf } from "../bank/topics.ts";
import { isFresh, type BankVersion } from "../bank/view.ts";
import type { Log } from "../log/types.ts";
import { bundledWorkerSource } from "../bundled-worker.ts";
import { Conditions } from "../conditions.ts";
import { banksOf, checkTermSpecs, stepsOf, type KnowledgeTerm, type TermConstants, type TermSpec } from "./knowledge.ts";
import type { KnowledgeMessage, KnowledgeWorkerData } from "./knowledge-worker.ts";

/** What a staleness bound waits on (`BankView.awaitVersion` has this shape too). */
export interface Freshness {
  awaitVersion(step: number, options?: { readonly minKeys?: number; readonly timeoutMs?: number; readonly signal?: AbortSignal }): Promise<void>;
}

export interface OffThreadKnowledge {
  readonly terms: readonly KnowledgeTerm[];
  /** A staleness bound on `bank` (one the terms read) as the knowledge the trainer has received holds it. */
  freshness(bank: string): Freshness;
  close(): Promise<void>;
}

const WORKER = new URL("./knowledge-worker.ts", import.meta.url);

/**
 * Starts the worker for `specs` over `graph` (the trainer's own, whose read positions the worker
 * reads up to) and resolves once it has sent the terms' first constants.
 */
export async function openTermsOffThread(log: Log, namespace: string, specs: readonly TermSpec[], graph: GraphStore, options: { readonly pollWaitMs?: number } = {}): Promise<OffThreadKnowledge> {
  checkTermSpecs(specs);
  const data: KnowledgeWorkerData = { location: log.location, namespace, specs, graph: graph.positions(), ...(options.pollWaitMs !== undefined ? { pollWaitMs: options.pollWaitMs } : {}) };
  const worker = new Worker(await bundledWorkerSource(WORKER), { eval: true, workerData: data });
  const constants: (TermConstants | undefined)[] = specs.map(() => undefined);
  let versions: (readonly BankVersion[])[] = specs.map(() => []);
  let failure: Error | undefined;
  const conditions = new Conditions();
  let first: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (first = { resolve, reject }));
  let failed = () => {};
  const failing = new Promise<void>((resolve) => (failed = resolve));
  const fail = (error: Error) => {
    failure ??= error;
    first?.reject(failure);
    conditions.wake();
    failed();
  };
  worker.on("message", (message: KnowledgeMessage) => {
    if (message.kind === "failed") return fail(new Error(`knowledge worker failed: ${message.message}`));
    message.constants.forEach((c, i) => {
      if (c !== "same") constants[i] = c ?? undefined;
    });
    versions = message.versions.map((v) => [...v]);
    first?.resolve();
    conditions.wake();
  });
  worker.on("error", (error) => fail(new Error(`knowledge worker failed: ${error.message}`)));
  const exited = new Promise<void>((resolve) => worker.on("exit", () => resolve()));
  void exited.then(() => fail(new Error("knowledge worker exited")));
  try {
    await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  first = undefined;

  const terms = specs.map(
    (spec, i): KnowledgeTerm => ({
      name: spec.kind,
      weight: spec.weight,
      spec,
      versions: () => [...versions[i]!],
      prepare: stepsOf(spec, () => {
        if (failure) throw failure;
        return constants[i];
      }),
    }),
  );
  const freshness = (bank: string): Freshness => {
    if (!specs.some((spec) => banksOf(spec).includes(bank))) throw new Error(`freshness: no term reads bank ${bank}`);
    const held = () => versions.flat().find((v) => bankNameOf(v.bank) === bank);
    return {
      awaitVersion: (step, options = {}) => {
        const minKeys = options.minKeys ?? 1;
        const fresh = () => {
          const version = held();
          return version !== undefined && isFresh(version, step, minKeys);
        };
        return conditions.until(fresh, `bank ${bank} to reach step ${step} on ${minKeys}+ keys`, { ...options, subject: "knowledge", blocked: () => failure });
      },
    };
  };
  return {
    terms,
    freshness,
    close: async () => {
      worker.postMessage("stop");
      // A worker that failed (before or while stopping) closed what it opened before it said so: nothing to wait for.
      await Promise.race([exited, failing.then(() => worker.terminate())]);
    },
  };
}
