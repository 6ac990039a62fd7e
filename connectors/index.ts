/**
 * Connectors: sources that turn files or topics into graph events, the writer that puts them on
 * the graph topics of a namespace (batched, dead-lettering bad rows, resumable), and sinks.
 *
 *   const summary = await writeGraph({ log, namespace: "cora", source: planetoidSource(dir, "cora") });
 *   console.error(formatSummary(summary));
 */
export type { BadRow, GraphSource, SourceEvent } from "./events.ts";
export { writeGraph, formatSummary, type IngestSummary, type WriteGraphOptions } from "./graph-writer.ts";
export { progressTopic, type ConnectorProgress, type IngestStats } from "./progress-topic.ts";
export { planetoidSource } from "./sources/planetoid.ts";
export { csvSource, type CsvSourceOptions } from "./sources/csv.ts";
export { jsonlSource } from "./sources/jsonl.ts";
export { xmlGraphSource, type XmlGraphOptions } from "./sources/xml-graph.ts";
export { ogbSource, type OgbSourceOptions } from "./sources/ogb.ts";
export { topicSource, type TopicSourceOptions } from "./sources/topic.ts";
export type { FieldMapping } from "./sources/json-records.ts";
export { syntheticEvents, syntheticSource, homophilyOf, type SyntheticOptions } from "./synthetic.ts";
export { writePredictions, type Prediction, type PredictionSink } from "./sinks.ts";
export { readGraph, readDeadLetters, type GraphSnapshot, type DeadLetterView } from "./read-back.ts";
export { readTopic } from "../src/log/read-all.ts";
