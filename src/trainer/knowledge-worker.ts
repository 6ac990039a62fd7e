/**
 * The worker behind `openTermsOffThread`: it follows the banks a trainer's terms read, with its own
 * log connection and views, and whenever a bank moves it builds every term's constants from the
 * banks as they stand and posts them with the bank versions they came from.
 */
import { parentPort, workerData } from "node:worker_threads";
import { GraphStore } from "../../graph/store/graph-store.ts";
import type { BankVersion, BankView } from "../bank/view.ts";
import { reopenLog, type LogLocation } from "../log/location.ts";
import type { TopicPartitionOffset } from "../log/types.ts";
import { openTerms, type TermConstants, type TermSpec } from "./knowledge.ts";

export interface KnowledgeWorkerData {
  readonly location: LogLocation;
  readonly namespace: string;
  readonly specs: readonly TermSpec[];
  /** The trainer's graph: where it stopped reading each graph partition. */
  readonly graph: readonly TopicPartitionOffset[];
  readonly pollWaitMs?: number;
}

/** Per term: its constants (`null`: nothing usable yet; `"same"`: as last posted) and the versions they came from. */
export type KnowledgeMessage =
  | { readonly kind: "knowledge"; readonly constants: readonly (TermConstants | null | "same")[]; readonly versions: readonly (readonly BankVersion[])[] }
  | { readonly kind: "failed"; readonly message: string };

/** While a bank is still applying what its topic holds, the worker waits for the rest up to this long before it builds. */
const SETTLE_MS = 50;

const port = parentPort!;
const { location, namespace, specs, graph: until, pollWaitMs } = workerData as KnowledgeWorkerData;
const stop = new AbortController();
port.on("message", (message) => message === "stop" && stop.abort());

try {
  const log = await reopenLog(location);
  try {
    const graph = await GraphStore.open(log, namespace, { until });
    const opened = await openTerms(log, namespace, specs, pollWaitMs !== undefined ? { pollWaitMs } : {});
    try {
      const views = [...opened.views.values()];
      const positions = () => JSON.stringify(views.map((view) => view.version().position.offsets));
      let posted = "";
      let last: (TermConstants | undefined)[] = [];
      for (;;) {
        await whenAny(views, () => positions() !== posted, stop.signal);
        if (stop.signal.aborted) break;
        // A new version arrives partition by partition: one build once it is all in, not one per part.
        await whenAny(views, () => views.every((view) => view.lag() === 0), stop.signal, SETTLE_MS);
        if (stop.signal.aborted) break;
        // Constants and versions are read in one synchronous pass: no view moves in between.
        posted = positions();
        const constants = opened.terms.map((term) => term.constants(graph));
        const versions = opened.terms.map((term) => term.versions());
        // Copies, handed over rather than cloned again: the terms keep their own for the next build.
        const sent = constants.map((c, i) => (c === undefined ? null : c === last[i] ? "same" : copyOf(c)));
        const buffers = sent.flatMap((c) => (c && c !== "same" ? arraysOf(c).map((a) => a.buffer as ArrayBuffer) : []));
        port.postMessage({ kind: "knowledge", constants: sent, versions } satisfies KnowledgeMessage, buffers);
        last = constants;
      }
    } finally {
      await opened.close();
    }
  } finally {
    await log.close();
  }
} catch (error) {
  port.postMessage({ kind: "failed", message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies KnowledgeMessage);
} finally {
  // The stop listener would keep the worker alive.
  port.close();
}

/**
 * Resolves once `condition` holds (checked now and after every read of a view's topic), `signal`
 * aborts or `timeoutMs` passes; rejects when a view fails to follow its topic.
 */
async function whenAny(views: readonly BankView[], condition: () => boolean, signal: AbortSignal, timeoutMs?: number): Promise<void> {
  if (condition() || signal.aborted) return;
  const done = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const ended = new Promise<void>((resolve) => {
    signal.addEventListener("abort", () => resolve(), { once: true, signal: done.signal });
    if (timeoutMs !== undefined) timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([ended, ...views.map((view) => view.follower.until(condition, "a bank to move", { signal: done.signal }))]);
  } finally {
    clearTimeout(timer);
    // The waits still pending end with this abort; the race has already heard their rejections.
    done.abort();
  }
}

function arraysOf(constants: TermConstants): (Int32Array | Float32Array)[] {
  return constants.kind === "graph" ? [constants.rows, constants.neighbours, constants.values] : [constants.rows, constants.labels, constants.confidences];
}

function copyOf(constants: TermConstants): TermConstants {
  return constants.kind === "graph"
    ? { ...constants, rows: constants.rows.slice(), neighbours: constants.neighbours.slice(), values: constants.values.slice() }
    : { kind: "pseudo", rows: constants.rows.slice(), labels: constants.labels.slice(), confidences: constants.confidences.slice() };
}
