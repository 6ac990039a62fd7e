/**
 * JSON lines, streamed: `{"type":"node","id":..,"label":..,"split":..,"features":[..]}`,
 * `{"type":"edge","src":..,"dst":..,"weight"?:..}`, and `node-delete` / `edge-delete`.
 */
import type { GraphSource, SourceEvent } from "../events.ts";
import { badRow } from "../events.ts";
import { fileFingerprint } from "../fingerprint.ts";
import { readLines } from "../lines.ts";
import { mapRecord, parseJson, type FieldMapping } from "./json-records.ts";

const MAPPINGS: Readonly<Record<string, FieldMapping>> = {
  node: { kind: "node", id: "id", label: "label", split: "split", features: "features" },
  edge: { kind: "edge", src: "src", dst: "dst", weight: "weight" },
  "node-delete": { kind: "node-delete", id: "id" },
  "edge-delete": { kind: "edge-delete", src: "src", dst: "dst" },
};

export function jsonlSource(path: string): GraphSource {
  return {
    connector: "jsonl",
    resumes: "by-row",
    fingerprint: () => fileFingerprint(path),
    events: (from, signal) => jsonlEvents(path, from, signal),
  };
}

async function* jsonlEvents(path: string, from: number, signal?: AbortSignal): AsyncGenerator<SourceEvent> {
  let row = 0;
  for await (const { text, number } of readLines(path, signal)) {
    if (text.trim() === "" || row++ < from) continue;
    const where = `${path}:${number}`;
    const parsed = parseJson(text, where);
    if (!parsed.ok) {
      yield parsed.bad;
      continue;
    }
    const type = (parsed.value as { type?: unknown } | null)?.type;
    const mapping = typeof type === "string" ? MAPPINGS[type] : undefined;
    yield mapping ? mapRecord(parsed.value, mapping, where, text) : badRow(where, `"type" ${JSON.stringify(type)} is not node, edge, node-delete or edge-delete`, text);
  }
}
