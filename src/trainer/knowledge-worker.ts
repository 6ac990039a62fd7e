/**
 * The worker behind `openTermsOffThread`: it follows the banks a trainer's terms read, with its own
 * log connection and views, and whenever a bank moves it builds every term's constants from the
 * banks as they stand and posts them with the bank versions they came from.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { parentPort, workerData } from "node:worker_threads";
import { GraphStore } from "../../graph/store/graph-store.ts";
import type { BankVersion } from "../bank/view.ts";
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

/** How often the worker looks whether a bank moved. */
const LOOK_MS = 2;
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
      let postedAt = 0;
      let last: (TermConstants | undefined)[] = [];
      while (!stop.signal.aborted) {
        // A new version arrives partition by partition: one build once it is all in, not one per part.
        const now = positions();
        if (now !== posted && (views.every((view) => view.lag() === 0) || performance.now() - postedAt > SETTLE_MS)) {
          // Constants and versions are read in one synchronous pass: no view moves in between.
          posted = now;
          postedAt = performance.now();
          const constants = opened.terms.map((term) => term.constants(graph));
          const versions = opened.terms.map((term) => term.versions());
          // Copies, handed over rather than cloned again: the terms keep their own for the next build.
          const sent = constants.map((c, i) => (c === undefined ? null : c === last[i] ? "same" : copyOf(c)));
          const buffers = sent.flatMap((c) => (c && c !== "same" ? arraysOf(c).map((a) => a.buffer as ArrayBuffer) : []));
          port.postMessage({ kind: "knowledge", constants: sent, versions } satisfies KnowledgeMessage, buffers);
          last = constants;
        }
        await sleep(LOOK_MS, undefined, { signal: stop.signal }).catch(() => undefined);
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

function arraysOf(constants: TermConstants): (Int32Array | Float32Array)[] {
  return constants.kind === "graph" ? [constants.rows, constants.neighbours, constants.values] : [constants.rows, constants.labels, constants.confidences];
}

function copyOf(constants: TermConstants): TermConstants {
  return constants.kind === "graph"
    ? { kind: "graph", rows: constants.rows.slice(), neighbours: constants.neighbours.slice(), values: constants.values.slice() }
    : { kind: "pseudo", rows: constants.rows.slice(), labels: constants.labels.slice(), confidences: constants.confidences.slice() };
}
