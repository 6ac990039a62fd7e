/**
 * The OGB node-property layout, gunzipped as a stream: `raw/node-feat.csv.gz` (one row of numbers
 * per node), `raw/node-label.csv.gz` (one class per node), `raw/edge.csv.gz` (`src,dst`, node
 * indices) and `split/<scheme>/{train,valid,test}.csv.gz` (node indices). Nodes first, then edges.
 */
import { access, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Split } from "../../src/schema/index.ts";
import type { GraphSource, SourceEvent } from "../events.ts";
import { badRow } from "../events.ts";
import { fileFingerprint } from "../fingerprint.ts";
import { readLines, type Line } from "../lines.ts";
import { toFeatures, toLabel } from "./fields.ts";

export interface OgbSourceOptions {
  /** Split scheme folder under `split/`, e.g. `time` for ogbn-arxiv (default: the only one, or none). */
  readonly split?: string;
}

const SPLIT_FILES: readonly [string, Split][] = [["train", "train"], ["valid", "val"], ["test", "test"]];

export function ogbSource(dir: string, options: OgbSourceOptions = {}): GraphSource {
  let resolved: Promise<OgbFiles> | undefined;
  const files = () => (resolved ??= ogbFiles(dir, options.split));
  return {
    connector: "ogb",
    resumes: "by-row",
    fingerprint: async () => {
      const f = await files();
      return fileFingerprint(f.features, f.labels, f.edges, ...f.splits.map(([path]) => path));
    },
    events: (from, signal) => ogbEvents(files(), from, signal),
  };
}

async function ogbFiles(dir: string, scheme: string | undefined): Promise<OgbFiles> {
  const schemes = scheme !== undefined ? [scheme] : await readdir(join(dir, "split")).catch(() => []);
  if (schemes.length > 1) throw new Error(`OGB ${dir}: several split schemes (${schemes.join(", ")}); choose one with \`split\``);
  return {
    features: join(dir, "raw", "node-feat.csv.gz"),
    labels: join(dir, "raw", "node-label.csv.gz"),
    edges: join(dir, "raw", "edge.csv.gz"),
    splits: schemes.length === 0 ? [] : SPLIT_FILES.map(([file, split]) => [join(dir, "split", schemes[0]!, `${file}.csv.gz`), split] as const),
  };
}

const exists = (path: string) => access(path).then(() => true, () => false);
const NODE_INDEX = /^\d+$/;

async function readSplits(files: readonly (readonly [string, Split])[], signal?: AbortSignal): Promise<Map<number, Split>> {
  const splits = new Map<number, Split>();
  for (const [path, split] of files) {
    if (!(await exists(path))) continue;
    for await (const { text, number } of readLines(path, signal)) {
      const id = text.trim();
      if (id === "") continue;
      if (!NODE_INDEX.test(id)) throw new Error(`${path}:${number}: ${JSON.stringify(id)} is not a node index`);
      splits.set(Number(id), split);
    }
  }
  return splits;
}

interface OgbFiles {
  readonly features: string;
  readonly labels: string;
  readonly edges: string;
  readonly splits: readonly (readonly [string, Split])[];
}

async function* ogbEvents(resolving: Promise<OgbFiles>, from: number, signal?: AbortSignal): AsyncGenerator<SourceEvent> {
  const files = await resolving;
  const [hasFeatures, hasLabels] = await Promise.all([exists(files.features), exists(files.labels)]);
  if (!hasFeatures && !hasLabels) throw new Error(`OGB: neither ${files.features} nor ${files.labels} exists`);
  const splits = await readSplits(files.splits, signal);
  const features = hasFeatures ? readLines(files.features, signal) : undefined;
  const labels = hasLabels ? readLines(files.labels, signal) : undefined;
  let row = 0;
  try {
    for (let node = 0; ; node++) {
      const [f, l] = await Promise.all([next(features), next(labels)]);
      if (f === undefined && l === undefined) break;
      if (row++ < from) continue;
      if (hasFeatures && hasLabels && (f === undefined || l === undefined)) {
        const [short, long] = f === undefined ? [files.features, files.labels] : [files.labels, files.features];
        yield badRow(`${long}:${node + 1}`, `${short} has only ${node} rows`, (f ?? l)!.text);
      } else yield nodeEvent(node, f, l);
    }
  } finally {
    await features?.return(undefined);
    await labels?.return(undefined);
  }
  for await (const { text, number } of readLines(files.edges, signal)) {
    if (text.trim() === "" || row++ < from) continue;
    const [src, dst, ...rest] = text.split(",").map((s) => s.trim());
    yield src !== undefined && dst !== undefined && rest.length === 0 && NODE_INDEX.test(src) && NODE_INDEX.test(dst)
      ? { kind: "edge", src, dst }
      : badRow(`${files.edges}:${number}`, "expected two node indices `src,dst`", text);
  }

  function nodeEvent(node: number, f: Line | undefined, l: Line | undefined): SourceEvent {
    const id = String(node);
    const feats = toFeatures(f?.text);
    if (!feats.ok) return badRow(`${files.features}:${f!.number}`, feats.reason, f!.text);
    const labelText = l?.text.trim();
    const label = toLabel(labelText === "nan" ? null : labelText);
    if (!label.ok) return badRow(`${files.labels}:${l!.number}`, label.reason, l!.text);
    return { kind: "node", id, label: label.value, split: splits.get(node) ?? null, ...(feats.value ? { features: feats.value } : {}) };
  }
}

async function next(lines: AsyncGenerator<Line> | undefined): Promise<Line | undefined> {
  if (!lines) return undefined;
  const result = await lines.next();
  return result.done ? undefined : result.value;
}
