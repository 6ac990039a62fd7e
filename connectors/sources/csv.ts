/**
 * CSV or TSV files, streamed line by line: an optional node table (`id,label,split,f0,f1,...` or a
 * `features` column), then an edge list (`src,dst[,weight]`). Headers are detected by their column
 * names unless told; without one, columns are positional.
 */
import type { SourceEvent, GraphSource } from "../events.ts";
import { badRow } from "../events.ts";
import { fileFingerprint } from "../fingerprint.ts";
import { readLines } from "../lines.ts";
import { detectDelimiter, splitFields, type Delimiter } from "./delimited.ts";
import { firstBad, toFeatures, toId, toLabel, toSplit, toWeight } from "./fields.ts";

export interface CsvSourceOptions {
  /** Edge list `src,dst[,weight]`. */
  readonly edges?: string;
  /** Node table `id,label,split,f0,...` (or a `features` column). */
  readonly nodes?: string;
  readonly delimiter?: Delimiter;
  /** Whether the first line is a header; `auto` (default) recognises known column names. */
  readonly header?: boolean | "auto";
}

const ID_NAMES = ["id", "node", "node_id", "nodeid", "name"];
const LABEL_NAMES = ["label", "class", "y", "target"];
const SPLIT_NAMES = ["split", "set", "fold"];
const FEATURES_NAMES = ["features", "feature", "x", "feat"];
const SRC_NAMES = ["src", "source", "from", "u", "node1", "id_1", "source_id"];
const DST_NAMES = ["dst", "target", "to", "v", "node2", "id_2", "target_id"];
const WEIGHT_NAMES = ["weight", "w", "value"];

interface Columns {
  /** Fields a row needs: at least `width` and at most `most`. */
  readonly width: number;
  readonly most: number;
  readonly get: (fields: readonly string[], where: string, raw: string) => SourceEvent;
}

export function csvSource(options: CsvSourceOptions): GraphSource {
  const files = [options.nodes, options.edges].filter((f): f is string => f !== undefined);
  if (files.length === 0) throw new Error("csv source: give `edges`, `nodes` or both");
  return {
    connector: "csv",
    resumes: "by-row",
    fingerprint: () => fileFingerprint(...files),
    events: (from, signal) => csvEvents(options, from, signal),
  };
}

async function* csvEvents(options: CsvSourceOptions, from: number, signal?: AbortSignal): AsyncGenerator<SourceEvent> {
  let row = 0;
  for (const [path, kind] of [[options.nodes, "nodes"], [options.edges, "edges"]] as const) {
    if (path === undefined) continue;
    let delimiter = options.delimiter === "auto" ? undefined : options.delimiter;
    let columns: Columns | undefined;
    for await (const { text, number } of readLines(path, signal)) {
      if (text.trim() === "") continue;
      if (columns === undefined) {
        delimiter ??= detectDelimiter(text);
        const first = splitFields(text, delimiter);
        const isHeader = options.header === "auto" || options.header === undefined ? knownHeader(first, kind) : options.header;
        try {
          columns = kind === "nodes" ? nodeColumns(isHeader ? first : undefined, first.length) : edgeColumns(isHeader ? first : undefined);
        } catch (error) {
          throw new Error(`${path}:${number}: ${(error as Error).message}`);
        }
        if (isHeader) continue;
      }
      if (row++ < from) continue;
      const where = `${path}:${number}`;
      const fields = splitFields(text, delimiter!);
      yield fields.length < columns.width || fields.length > columns.most ? badRow(where, `expected ${fieldCount(columns)} fields, got ${fields.length}`, text) : columns.get(fields, where, text);
    }
  }
}

function knownHeader(fields: readonly string[], kind: "nodes" | "edges"): boolean {
  const first = fields[0]?.toLowerCase() ?? "";
  return (kind === "nodes" ? ID_NAMES : SRC_NAMES).includes(first);
}

const fieldCount = ({ width, most }: Columns): string => (width === most ? String(width) : `${width} to ${most}`);

const indexOf = (header: readonly string[], names: readonly string[]) => header.findIndex((h) => names.includes(h.toLowerCase()));

function edgeColumns(header: readonly string[] | undefined): Columns {
  const src = header ? indexOf(header, SRC_NAMES) : 0;
  const dst = header ? indexOf(header, DST_NAMES) : 1;
  const weight = header ? indexOf(header, WEIGHT_NAMES) : 2;
  if (src < 0 || dst < 0) throw new Error(`edge list header ${JSON.stringify(header)} has no source or target column`);
  // Every column a header names, no more (a weight in the last column may be left out); without one, src, dst and an optional weight.
  return {
    width: header ? header.length - (weight === header.length - 1 ? 1 : 0) : 2,
    most: header ? header.length : 3,
    get(fields, where, raw) {
      const s = toId(fields[src], "src");
      const d = toId(fields[dst], "dst");
      const w = toWeight(weight >= 0 ? fields[weight] : undefined);
      if (!s.ok || !d.ok || !w.ok) return firstBad([s, d, w], where, raw);
      return { kind: "edge", src: s.value, dst: d.value, ...(w.value === undefined ? {} : { weight: w.value }) };
    },
  };
}

function nodeColumns(header: readonly string[] | undefined, width: number): Columns {
  const id = header ? indexOf(header, ID_NAMES) : 0;
  const label = header ? indexOf(header, LABEL_NAMES) : 1;
  const split = header ? indexOf(header, SPLIT_NAMES) : 2;
  const features = header ? indexOf(header, FEATURES_NAMES) : -1;
  if (id < 0) throw new Error(`node table header ${JSON.stringify(header)} has no id column`);
  const named = new Set([id, label, split, features]);
  // Every other column is one feature, in file order.
  const featureColumns = Array.from({ length: header?.length ?? width }, (_, i) => i).filter((i) => !named.has(i));
  // As wide as the header, or without one as the first row: a row wider or narrower is not this table's.
  const columns = header ? header.length : width;
  return {
    width: columns,
    most: columns,
    get(fields, where, raw) {
      const i = toId(fields[id]);
      const l = toLabel(label >= 0 ? fields[label] : undefined);
      const s = toSplit(split >= 0 ? fields[split] : undefined);
      const f = toFeatures(features >= 0 ? fields[features] : featureColumns.length > 0 ? featureColumns.map((c) => fields[c] ?? "") : undefined);
      if (!i.ok || !l.ok || !s.ok || !f.ok) return firstBad([i, l, s, f], where, raw);
      return { kind: "node", id: i.value, label: l.value, split: s.value, ...(f.value ? { features: f.value } : {}) };
    },
  };
}
