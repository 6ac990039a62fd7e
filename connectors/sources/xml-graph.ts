/**
 * GraphML and GEXF files through graphology's parsers (these formats are read whole). Node
 * attributes: `label` (class index), `split`, and every other numeric attribute is a feature,
 * ordered by name with numbers compared numerically (f2 before f10).
 */
import { readFile } from "node:fs/promises";
import { MultiGraph } from "graphology";
import type { Attributes } from "graphology-types";
import { parse as parseGexf } from "graphology-gexf";
import { parse as parseGraphml } from "graphology-graphml";
import { denseVector } from "../../src/schema/index.ts";
import type { GraphSource, SourceEvent } from "../events.ts";
import { badRow } from "../events.ts";
import { fileFingerprint } from "../fingerprint.ts";
import { toId, toLabel, toSplit, toWeight } from "./fields.ts";

export interface XmlGraphOptions {
  readonly format?: "graphml" | "gexf";
  readonly labelAttribute?: string;
  readonly splitAttribute?: string;
  readonly weightAttribute?: string;
  /** Feature attributes in order; default every other numeric node attribute. */
  readonly featureAttributes?: readonly string[];
}

export function xmlGraphSource(path: string, options: XmlGraphOptions = {}): GraphSource {
  const format = options.format ?? (path.toLowerCase().endsWith(".gexf") ? "gexf" : "graphml");
  return {
    connector: format,
    resumes: "by-row",
    fingerprint: () => fileFingerprint(path),
    events: (from) => xmlEvents(path, format, options, from),
  };
}

async function loadGraph(path: string, format: "graphml" | "gexf"): Promise<MultiGraph> {
  const text = await readFile(path, "utf8");
  try {
    return format === "gexf" ? parseGexf(MultiGraph, text, { addMissingNodes: true }) : parseGraphml(MultiGraph, text, { addMissingNodes: true });
  } catch (error) {
    throw new Error(`${path}: not a readable ${format} file: ${(error as Error).message}`);
  }
}

const byName = new Intl.Collator("en", { numeric: true }).compare;

function numericAttributes(graph: MultiGraph, skip: ReadonlySet<string>): string[] {
  const names = new Set<string>();
  graph.forEachNode((_, attributes) => {
    for (const [name, value] of Object.entries(attributes)) if (!skip.has(name) && typeof value === "number") names.add(name);
  });
  return [...names].sort(byName);
}

async function* xmlEvents(path: string, format: "graphml" | "gexf", options: XmlGraphOptions, from: number): AsyncGenerator<SourceEvent> {
  const graph = await loadGraph(path, format);
  const labelName = options.labelAttribute ?? "label";
  const splitName = options.splitAttribute ?? "split";
  const weightName = options.weightAttribute ?? "weight";
  const features = options.featureAttributes ?? numericAttributes(graph, new Set([labelName, splitName]));
  let row = 0;
  for (const { node, attributes } of graph.nodeEntries()) {
    if (row++ < from) continue;
    yield nodeEvent(node, attributes, `${path}: node ${JSON.stringify(node)}`);
  }
  for (const { source, target, attributes } of graph.edgeEntries()) {
    if (row++ < from) continue;
    const weight = toWeight(attributes[weightName]);
    yield weight.ok
      ? { kind: "edge", src: source, dst: target, ...(weight.value === undefined ? {} : { weight: weight.value }) }
      : badRow(`${path}: edge ${JSON.stringify(source)}->${JSON.stringify(target)}`, weight.reason, JSON.stringify({ source, target, attributes }));
  }

  function nodeEvent(node: string, attributes: Attributes, where: string): SourceEvent {
    const raw = JSON.stringify({ id: node, ...attributes });
    const id = toId(node);
    if (!id.ok) return badRow(where, id.reason, raw);
    const label = toLabel(attributes[labelName]);
    if (!label.ok) return badRow(where, label.reason, raw);
    const split = toSplit(attributes[splitName]);
    if (!split.ok) return badRow(where, split.reason, raw);
    const values = new Float32Array(features.length);
    for (let i = 0; i < features.length; i++) {
      const value = attributes[features[i]!];
      if (typeof value !== "number" || !Number.isFinite(value)) return badRow(where, `feature attribute ${features[i]} is ${JSON.stringify(value)}, not a number`, raw);
      values[i] = value;
    }
    return { kind: "node", id: id.value, label: label.value, split: split.value, ...(features.length > 0 ? { features: denseVector(values) } : {}) };
  }
}
