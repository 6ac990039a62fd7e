/** Reads the graph topics of a namespace back, latest value per key, e.g. to check an ingest. */
import { readTopic } from "../src/log/read-all.ts";
import type { Log } from "../src/log/types.ts";
import { DEAD_LETTER_HEADERS } from "../src/schema/dead-letter.ts";
import { decodeEdge, decodeNode, type EdgeUpsert, type NodeUpsert } from "../src/schema/graph-records.ts";
import { graphTopics } from "../src/schema/graph-topics.ts";

export interface GraphSnapshot {
  readonly nodes: Map<string, NodeUpsert>;
  /** Keyed by `src NUL dst`. */
  readonly edges: Map<string, EdgeUpsert>;
  /** Records stored in the topics (before compaction, every write counts). */
  readonly nodeRecords: number;
  readonly edgeRecords: number;
}

export async function readGraph(log: Log, namespace: string): Promise<GraphSnapshot> {
  const topics = graphTopics(namespace);
  const nodes = new Map<string, NodeUpsert>();
  const edges = new Map<string, EdgeUpsert>();
  let nodeRecords = 0;
  let edgeRecords = 0;
  for await (const record of readTopic(log, topics.nodes)) {
    nodeRecords++;
    const decoded = decodeNode(record.key, record.value);
    if (!decoded.ok) throw new Error(`${topics.nodes}@${record.offset}: ${decoded.reason}`);
    if (decoded.value.kind === "node") nodes.set(decoded.value.id, decoded.value);
    else nodes.delete(decoded.value.id);
  }
  for await (const record of readTopic(log, topics.edges)) {
    edgeRecords++;
    const decoded = decodeEdge(record.key, record.value);
    if (!decoded.ok) throw new Error(`${topics.edges}@${record.offset}: ${decoded.reason}`);
    const key = `${decoded.value.src}\u0000${decoded.value.dst}`;
    if (decoded.value.kind === "edge") edges.set(key, decoded.value);
    else edges.delete(key);
  }
  return { nodes, edges, nodeRecords, edgeRecords };
}

export interface DeadLetterView {
  readonly reason: string;
  readonly topic: string;
  readonly raw: string;
}

export async function readDeadLetters(log: Log, namespace: string): Promise<DeadLetterView[]> {
  const dec = new TextDecoder();
  const letters: DeadLetterView[] = [];
  for await (const record of readTopic(log, `${namespace}.dead-letters`)) {
    const header = (name: string) => dec.decode(record.headers[name] ?? new Uint8Array());
    letters.push({ reason: header(DEAD_LETTER_HEADERS.reason), topic: header(DEAD_LETTER_HEADERS.topic), raw: record.value ? dec.decode(record.value) : "" });
  }
  return letters;
}
