import { decodeEdge, decodeNode, type Decoded, type GraphEvent } from "../../src/schema/graph-records.ts";

const enc = new TextEncoder();
const EMPTY_OBJECT = enc.encode("{}");

const isEmptyObject = (value: Uint8Array): boolean => value.byteLength === 2 && value[0] === EMPTY_OBJECT[0] && value[1] === EMPTY_OBJECT[1];

/** Decodes a record of the nodes or edges topic. */
export function decodeGraphRecord(kind: "nodes" | "edges", key: Uint8Array | null, value: Uint8Array | null): Decoded<GraphEvent> {
  if (kind === "nodes") return decodeNode(key, value);
  // Most edges carry no weight, and the schema parse of their `{}` dominates decoding; for them
  // only the key needs checking, which decoding it as a tombstone does.
  if (value !== null && isEmptyObject(value)) {
    const ids = decodeEdge(key, null);
    return ids.ok ? { ok: true, value: { kind: "edge", src: ids.value.src, dst: ids.value.dst } } : ids;
  }
  return decodeEdge(key, value);
}
