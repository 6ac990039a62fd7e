/** Graph events from parsed JSON objects, shared by the JSON-lines and topic sources. */
import type { SourceEvent } from "../events.ts";
import { badRow } from "../events.ts";
import { firstBad, toFeatures, toId, toLabel, toSplit, toWeight } from "./fields.ts";

/** Where each field of a node or edge lives in a JSON object (dot paths). */
export type FieldMapping =
  | { readonly kind: "node"; readonly id: string; readonly label?: string; readonly split?: string; readonly features?: string }
  | { readonly kind: "edge"; readonly src: string; readonly dst: string; readonly weight?: string }
  | { readonly kind: "node-delete"; readonly id: string }
  | { readonly kind: "edge-delete"; readonly src: string; readonly dst: string };

export function getPath(object: unknown, path: string): unknown {
  let value = object;
  for (const part of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

export function mapRecord(object: unknown, mapping: FieldMapping, where: string, raw: string): SourceEvent {
  const get = (path: string | undefined) => (path === undefined ? undefined : getPath(object, path));
  switch (mapping.kind) {
    case "node": {
      const id = toId(get(mapping.id), mapping.id);
      const label = toLabel(get(mapping.label));
      const split = toSplit(get(mapping.split));
      const features = toFeatures(get(mapping.features));
      if (!id.ok || !label.ok || !split.ok || !features.ok) return firstBad([id, label, split, features], where, raw);
      return { kind: "node", id: id.value, label: label.value, split: split.value, ...(features.value ? { features: features.value } : {}) };
    }
    case "node-delete": {
      const id = toId(get(mapping.id), mapping.id);
      return id.ok ? { kind: "node-delete", id: id.value } : badRow(where, id.reason, raw);
    }
    case "edge":
    case "edge-delete": {
      const src = toId(get(mapping.src), mapping.src);
      const dst = toId(get(mapping.dst), mapping.dst);
      const weight = toWeight(mapping.kind === "edge" ? get(mapping.weight) : undefined);
      if (!src.ok || !dst.ok || !weight.ok) return firstBad([src, dst, weight], where, raw);
      if (mapping.kind === "edge-delete") return { kind: "edge-delete", src: src.value, dst: dst.value };
      return { kind: "edge", src: src.value, dst: dst.value, ...(weight.value === undefined ? {} : { weight: weight.value }) };
    }
  }
}

/** Parses one JSON text, or returns the bad row saying why it is not JSON. */
export function parseJson(raw: string, where: string): { ok: true; value: unknown } | { ok: false; bad: SourceEvent } {
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (error) {
    return { ok: false, bad: badRow(where, `not JSON: ${(error as Error).message}`, raw) };
  }
}
