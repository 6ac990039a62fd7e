/**
 * The graph store: materialises a namespace's graph topics and follows them. See GraphState for
 * what is kept, PartitionReader for how the topics are read.
 */
import type { Log, LogRecord, TopicPartitionOffset } from "../../src/log/types.ts";
import { sendToDeadLetters, ensureDeadLetterTopic, type DeadLetter } from "../../src/schema/dead-letter.ts";
import { ensureGraphTopics, graphTopics } from "../../src/schema/graph-topics.ts";
import { decodeGraphRecord } from "./decode.ts";
import { GraphState } from "./graph-state.ts";
import type { Graph } from "./graphology-view.ts";
import { PartitionReader, type Source } from "../../src/log/partition-reader.ts";
import type { CsrSnapshot, FeatureMatrix, GraphStoreOptions, SplitMasks } from "./types.ts";

type Kind = "nodes" | "edges";

export class GraphStore {
  private readonly reader: PartitionReader<Kind>;

  private constructor(
    private readonly log: Log,
    sources: readonly Source<Kind>[],
    private readonly state: GraphState,
    private readonly options: GraphStoreOptions,
  ) {
    this.reader = new PartitionReader(log, sources, (source, partition, records) => this.applyBatch(source, partition, records), options.maxRecordsPerRead ?? 10_000);
  }

  /** Opens the store on `<namespace>.graph.{nodes,edges}` (created if missing) and catches up. */
  static async open(log: Log, namespace: string, options: GraphStoreOptions = {}): Promise<GraphStore> {
    const sources = await graphSources(log, namespace, options.partitions ?? 4);
    const store = new GraphStore(log, sources, new GraphState(options.directed ?? false, options.featureDim), options);
    const until = options.until;
    store.state.nodes.reserve(await nodeRecords(log, sources[0]!.topic, until));
    if (until) {
      await store.reader.readUntil((topic, partition) => {
        const end = until.find((p) => p.topic === topic && p.partition === partition);
        if (!end) throw new Error(`GraphStore.open: the position to read until has no offset for ${topic}[${partition}]`);
        return end.offset;
      });
    } else await store.catchUp();
    return store;
  }

  /**
   * The graph in graphology (node attributes `label`, `split`; edge attribute `weight` when given;
   * edge keys are internal). Built on first access, then updated with every event; read it, do not
   * modify it.
   */
  get graph(): Graph {
    return this.state.graph();
  }

  get edgeCount(): number {
    return this.state.edgeCount;
  }

  /** Events applied so far. */
  get version(): number {
    return this.state.changes.version;
  }

  /** Node indices in use: live nodes plus holes. */
  get numNodes(): number {
    return this.state.index.size;
  }

  get featureDim(): number {
    return this.state.nodes.featureDim;
  }

  /** The dense index of a node id (kept for the store's life, also after deletion), or -1. */
  indexOf(id: string): number {
    return this.state.index.indexOf(id);
  }

  idOf(index: number): string {
    return this.state.index.idOf(index);
  }

  isAlive(index: number): boolean {
    return this.state.index.isAlive(index);
  }

  /** Indices of deleted nodes: empty rows everywhere, never reused by another id. */
  holes(): Int32Array {
    return this.state.index.holes();
  }

  /** Live view of the features (see NodeTable.featureMatrix): take it again after new events. */
  features(): FeatureMatrix {
    return this.state.nodes.featureMatrix(this.numNodes);
  }

  /** Live view of the labels, -1 where unknown: take it again after new events. */
  labels(): Int32Array {
    return this.state.nodes.labels(this.numNodes);
  }

  masks(): SplitMasks {
    return this.state.nodes.masks(this.numNodes);
  }

  /** The CSR adjacency; cached until the graph's structure changes. */
  snapshot(): CsrSnapshot {
    return this.state.snapshot();
  }

  /** Ids of the nodes whose features, label or edges changed after `version` (deleted ones included). */
  changedSince(version: number): Set<string> {
    const ids = new Set<string>();
    for (const index of this.state.changes.changedSince(version, this.numNodes)) ids.add(this.state.index.idOf(index));
    return ids;
  }

  /** Per topic-partition, the next offset to consume: the graph seen is everything before these. */
  positions(): TopicPartitionOffset[] {
    return this.reader.positions();
  }

  /** Applies everything produced before this call. */
  catchUp(): Promise<void> {
    return this.reader.catchUp();
  }

  /** Keeps applying new events as they arrive until `signal` aborts. */
  follow(signal: AbortSignal): Promise<void> {
    return this.reader.follow(signal, this.options.pollWaitMs ?? 500);
  }

  private async applyBatch(source: Source<Kind>, partition: number, records: readonly LogRecord[]): Promise<void> {
    const letters: DeadLetter[] = [];
    for (const record of records) {
      const decoded = decodeGraphRecord(source.kind, record.key, record.value);
      const reason = decoded.ok ? this.state.apply(decoded.value) : decoded.reason;
      if (reason !== undefined) letters.push({ topic: source.topic, partition, record, reason });
    }
    await sendToDeadLetters(this.log, letters);
  }
}

/**
 * How many node records a read from the start (up to `until`) goes through: as many nodes, in a
 * graph with one record per node; an upper bound in one whose nodes were updated.
 */
async function nodeRecords(log: Log, topic: string, until: GraphStoreOptions["until"]): Promise<number> {
  let records = 0;
  for (const { partition, logStartOffset, highWatermark } of await log.offsets(topic)) {
    const end = until ? (until.find((u) => u.topic === topic && u.partition === partition)?.offset ?? 0) : highWatermark;
    records += Math.max(0, end - logStartOffset);
  }
  return records;
}

async function graphSources(log: Log, namespace: string, partitions: number): Promise<Source<Kind>[]> {
  const topics = graphTopics(namespace);
  const existing = new Set(await log.listTopics());
  if (existing.has(topics.nodes) && existing.has(topics.edges)) await ensureDeadLetterTopic(log, topics.nodes);
  else await ensureGraphTopics(log, namespace, partitions);
  const describe = async (topic: string, kind: Kind) => ({ topic, kind, partitions: (await log.describeTopic(topic)).partitions.length });
  return [await describe(topics.nodes, "nodes"), await describe(topics.edges, "edges")];
}
