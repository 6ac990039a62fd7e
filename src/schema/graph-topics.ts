import type { Log } from "../log/types.ts";
import { ensureDeadLetterTopic } from "./dead-letter.ts";
import { checkNamespace } from "./namespace.ts";

/** The topics that hold one graph: nodes and edges, both compacted and keyed by id. */
export interface GraphTopics {
  readonly nodes: string;
  readonly edges: string;
}

export const graphTopics = (namespace: string): GraphTopics => ({ nodes: `${checkNamespace(namespace)}.graph.nodes`, edges: `${namespace}.graph.edges` });

/** Creates the graph topics of a namespace (and its dead-letter topic) if they are missing. */
export async function ensureGraphTopics(log: Log, namespace: string, partitions = 4): Promise<GraphTopics> {
  const topics = graphTopics(namespace);
  await log.createTopic(topics.nodes, { partitions, compacted: true });
  await log.createTopic(topics.edges, { partitions, compacted: true });
  await ensureDeadLetterTopic(log, topics.nodes);
  return topics;
}
