/**
 * Writes a source's graph events to the graph topics of a namespace, in batches. Bad rows (and
 * events that fail to encode) go to `<ns>.dead-letters` with their reason; the ingest carries on.
 * After every batch the connector's progress is saved, so a re-run skips what is already written.
 */
import type { Log, ProduceRecord } from "../src/log/types.ts";
import { sendToDeadLetters, type DeadLetter } from "../src/schema/dead-letter.ts";
import { edgeTombstone, encodeEdge, encodeNode, nodeTombstone } from "../src/schema/graph-records.ts";
import { ensureGraphTopics, type GraphTopics } from "../src/schema/graph-topics.ts";
import type { GraphSource, SourceEvent } from "./events.ts";
import { progressBar } from "./progress-bar.ts";
import { emptyStats, ensureProgressTopic, loadProgress, progressKey, saveProgress, type IngestStats } from "./progress-topic.ts";

export interface WriteGraphOptions {
  readonly log: Log;
  readonly namespace: string;
  readonly source: GraphSource;
  /** Source rows per produced batch (default 5,000). */
  readonly batchSize?: number;
  /** Node ids (and edge ends) must match this, else the row is dead-lettered. */
  readonly idPattern?: RegExp;
  /** Partitions of the graph topics when they are created (default 4). */
  readonly partitions?: number;
  /** Progress bar on stderr: `auto` (default) shows it when stderr is a terminal. */
  readonly progress?: boolean | "auto";
  /** Stop cleanly (after the batch in flight) when aborted; progress stays resumable. */
  readonly signal?: AbortSignal;
  /** Stop after this many batches in this run (for tests and partial loads). */
  readonly maxBatches?: number;
}

export interface IngestSummary extends IngestStats {
  readonly connector: string;
  readonly fingerprint: string;
  readonly topics: GraphTopics;
  /** Rows of the source written, over all runs. */
  readonly rowsDone: number;
  /** Rows already written by earlier runs when this one started. */
  readonly resumedFrom: number;
  readonly complete: boolean;
  /** Batches produced by this run. */
  readonly batches: number;
  readonly seconds: number;
}

interface Batch {
  readonly nodes: ProduceRecord[];
  readonly edges: ProduceRecord[];
  readonly dead: DeadLetter[];
  rows: number;
}

const enc = new TextEncoder();

export async function writeGraph(options: WriteGraphOptions): Promise<IngestSummary> {
  const { log, namespace, source, signal } = options;
  const batchSize = options.batchSize ?? 5000;
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1)) throw new Error(`writeGraph: batchSize must be an integer ≥ 1, got ${batchSize}`);
  const started = performance.now();
  const topics = await ensureGraphTopics(log, namespace, options.partitions);
  const stateTopic = await ensureProgressTopic(log, namespace);
  const fingerprint = await source.fingerprint();
  const key = progressKey(source.connector, fingerprint);
  const previous = await loadProgress(log, stateTopic, key);
  const resumedFrom = previous?.rowsDone ?? 0;
  const stats = previous?.stats ?? emptyStats();
  const labels = new Set(stats.labels);
  let rowsDone = resumedFrom;
  let batches = 0;
  const summary = (complete: boolean): IngestSummary => ({
    ...stats,
    labels: [...labels].sort((a, b) => a - b),
    connector: source.connector,
    fingerprint,
    topics,
    rowsDone,
    resumedFrom,
    complete,
    batches,
    seconds: (performance.now() - started) / 1000,
  });
  if (previous?.complete && source.resumes === "by-row") return summary(true);

  const bar = progressBar(source.connector, options.progress ?? "auto", await source.estimateRows?.());
  const newBatch = (): Batch => ({ nodes: [], edges: [], dead: [], rows: 0 });
  const deadLetter = (batch: Batch, topic: string, where: string, reason: string, raw: string) => {
    stats.bad++;
    batch.dead.push({ topic, partition: -1, record: { key: enc.encode(where), value: enc.encode(raw), offset: rowsDone + batch.rows }, reason: `${where}: ${reason}` });
  };
  const badId = (id: string) => options.idPattern !== undefined && !options.idPattern.test(id);

  const add = (batch: Batch, event: SourceEvent) => {
    try {
      switch (event.kind) {
        case "bad":
          return deadLetter(batch, `${namespace}.connector.${source.connector}`, event.where, event.reason, event.raw);
        case "node": {
          if (badId(event.id)) return deadLetter(batch, topics.nodes, `node ${JSON.stringify(event.id)}`, `id does not match ${options.idPattern}`, JSON.stringify(event.id));
          const dim = event.features === undefined ? undefined : event.features.kind === "sparse" ? event.features.dim : event.features.values.length;
          if (dim !== undefined && stats.featureDim > 0 && dim !== stats.featureDim) {
            return deadLetter(batch, topics.nodes, `node ${JSON.stringify(event.id)}`, `feature dimension ${dim} differs from ${stats.featureDim}`, event.id);
          }
          batch.nodes.push(encodeNode(event));
          stats.nodes++;
          if (dim !== undefined) stats.featureDim = dim;
          if (typeof event.label === "number") labels.add(event.label);
          return;
        }
        case "node-delete":
          batch.nodes.push(nodeTombstone(event.id));
          stats.nodeDeletes++;
          return;
        case "edge":
          if (badId(event.src) || badId(event.dst)) {
            return deadLetter(batch, topics.edges, `edge ${JSON.stringify(event.src)}->${JSON.stringify(event.dst)}`, `id does not match ${options.idPattern}`, `${event.src}\t${event.dst}`);
          }
          batch.edges.push(encodeEdge(event));
          stats.edges++;
          return;
        case "edge-delete":
          batch.edges.push(edgeTombstone(event.src, event.dst));
          stats.edgeDeletes++;
          return;
      }
    } catch (error) {
      const what = event.kind.startsWith("edge") ? topics.edges : topics.nodes;
      deadLetter(batch, what, `${event.kind} event`, (error as Error).message, JSON.stringify(event));
    }
  };

  // The next batch is read while the previous one is produced (one batch in flight), and progress
  // is saved only once a batch's records are written.
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async (batch: Batch, complete: boolean) => {
    const commitSource = source.checkpoint?.();
    await inFlight;
    rowsDone += batch.rows;
    if (batch.rows > 0) batches++;
    const progress = { rowsDone, complete, stats: { ...stats, labels: [...labels].sort((a, b) => a - b) } };
    inFlight = (async () => {
      await Promise.all([
        batch.nodes.length > 0 ? log.produce(topics.nodes, batch.nodes) : undefined,
        batch.edges.length > 0 ? log.produce(topics.edges, batch.edges) : undefined,
        sendToDeadLetters(log, batch.dead),
      ]);
      await commitSource?.();
      await saveProgress(log, stateTopic, key, progress);
      bar.update(progress.rowsDone, progress.stats);
    })();
    inFlight.catch(() => {}); // awaited below; this only keeps it from counting as unhandled meanwhile
  };

  let complete = false;
  let batch = newBatch();
  try {
    complete = await (async () => {
      for await (const event of source.events(resumedFrom, signal)) {
        if (signal?.aborted) return false;
        add(batch, event);
        batch.rows++;
        if (batch.rows >= batchSize) {
          await flush(batch, false);
          batch = newBatch();
          if (options.maxBatches !== undefined && batches >= options.maxBatches) return false;
        }
      }
      return !signal?.aborted;
    })();
    if (complete) await flush(batch, true);
  } catch (error) {
    if (!signal?.aborted) throw error;
  } finally {
    await inFlight.finally(() => {
      bar.stop();
      return source.close?.();
    });
  }
  return summary(complete);
}

export function formatSummary(summary: IngestSummary): string {
  return [
    `${summary.connector}: ${summary.complete ? "complete" : "stopped early"} after ${summary.rowsDone} rows` +
      (summary.resumedFrom > 0 ? ` (resumed at ${summary.resumedFrom})` : "") +
      ` in ${summary.seconds.toFixed(2)} s`,
    `  nodes ${summary.nodes}, edges ${summary.edges}, deletes ${summary.nodeDeletes + summary.edgeDeletes}, feature dim ${summary.featureDim}, classes ${summary.labels.length}, bad records ${summary.bad}`,
    ...(summary.complete && summary.rowsDone === 0 && summary.resumedFrom === 0 ? ["  warning: the source held no rows"] : []),
  ].join("\n");
}
