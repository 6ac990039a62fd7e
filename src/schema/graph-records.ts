/**
 * Records of the graph topics `<ns>.graph.nodes` and `<ns>.graph.edges` (both compacted).
 *
 * Node: key = node id (UTF-8); value = metaLength u32 | meta JSON | zero padding to 8 bytes | feature
 *       vector (optional, see vector.ts); a tombstone deletes the node.
 * Edge: key = src id, NUL, dst id; value = JSON `{ "weight"?: number }`; a tombstone deletes the edge.
 *
 * Every decode validates and returns either the event or the reason it is invalid, so a pipeline
 * can send the record to its dead-letter topic and carry on.
 */
import { decodeVector, encodedVectorBytes, encodeVectorInto, type Vector } from "./vector.ts";
import { idDecoder } from "./utf8.ts";

export const SPLITS = ["train", "val", "test"] as const;
export type Split = (typeof SPLITS)[number];

// The metas are checked by hand, like the binary layout around them: this runs once per graph
// record on every read of a graph, and keeps effect's Schema module (a quarter second to load)
// out of every process and worker that only reads graphs.
type Meta<A> = (json: Record<string, unknown>) => string | A;

/** What is wrong with a node's label and split, the same on both sides: what encodes, decodes. */
function nodeMetaProblem(label: unknown, split: unknown): string | undefined {
  if (label !== undefined && label !== null && !(Number.isSafeInteger(label) && (label as number) >= 0)) return `label must be an integer ≥ 0 (at most 2^53 - 1) or null, got ${JSON.stringify(label)}`;
  if (split !== undefined && split !== null && !SPLITS.includes(split as Split)) return `split must be one of ${SPLITS.map((name) => JSON.stringify(name)).join(", ")} or null, got ${JSON.stringify(split)}`;
  return undefined;
}

const nodeMeta: Meta<{ label?: number | null; split?: Split | null }> = ({ label, split, ...rest }) => {
  const problem = nodeMetaProblem(label, split);
  if (problem) return problem;
  const extra = Object.keys(rest);
  if (extra.length > 0) return `unexpected field${extra.length > 1 ? "s" : ""} ${extra.join(", ")} (expected label, split)`;
  return { ...(label !== undefined ? { label: label as number | null } : {}), ...(split !== undefined ? { split: split as Split | null } : {}) };
};

const edgeMeta: Meta<{ weight?: number }> = ({ weight, ...rest }) => {
  if (weight !== undefined && !(typeof weight === "number" && Number.isFinite(weight))) return `weight must be a finite number, got ${JSON.stringify(weight)}`;
  const extra = Object.keys(rest);
  if (extra.length > 0) return `unexpected field${extra.length > 1 ? "s" : ""} ${extra.join(", ")} (expected weight)`;
  return weight !== undefined ? { weight } : {};
};

export interface NodeUpsert {
  readonly kind: "node";
  readonly id: string;
  readonly label?: number | null;
  readonly split?: Split | null;
  readonly features?: Vector;
}
export interface NodeDelete {
  readonly kind: "node-delete";
  readonly id: string;
}
export interface EdgeUpsert {
  readonly kind: "edge";
  readonly src: string;
  readonly dst: string;
  readonly weight?: number;
}
export interface EdgeDelete {
  readonly kind: "edge-delete";
  readonly src: string;
  readonly dst: string;
}
export type GraphEvent = NodeUpsert | NodeDelete | EdgeUpsert | EdgeDelete;

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });
const fail = (reason: string): Decoded<never> => ({ ok: false, reason });

export function checkNodeId(id: string): void {
  if (typeof id !== "string" || id.length === 0 || id.includes("\u0000")) {
    throw new TypeError(`node id must be a non-empty string without NUL characters, got ${JSON.stringify(id)}`);
  }
}

/**
 * The meta JSON of a node, checked by hand: it runs once per record on ingest, where a Schema
 * encode cost more than the rest of the record. It is ASCII, so its length is its byte length.
 */
function nodeMetaJson(node: Omit<NodeUpsert, "kind">): string {
  const { label, split } = node;
  const problem = nodeMetaProblem(label, split);
  if (problem) throw new TypeError(`node ${node.id}: ${problem}`);
  const fields: string[] = [];
  if (label !== undefined) fields.push(`"label":${label}`);
  if (split !== undefined) fields.push(`"split":${split === null ? "null" : `"${split}"`}`);
  return `{${fields.join(",")}}`;
}

export function encodeNode(node: Omit<NodeUpsert, "kind">): { key: Uint8Array; value: Uint8Array } {
  checkNodeId(node.id);
  const meta = nodeMetaJson(node);
  const vectorAt = (4 + meta.length + 7) & ~7;
  const value = new Uint8Array(vectorAt + (node.features ? encodedVectorBytes(node.features) : 0));
  new DataView(value.buffer).setUint32(0, meta.length, true);
  enc.encodeInto(meta, value.subarray(4));
  if (node.features) encodeVectorInto(node.features, value, vectorAt);
  return { key: enc.encode(node.id), value };
}

export const nodeTombstone = (id: string): { key: Uint8Array; value: null } => {
  checkNodeId(id);
  return { key: enc.encode(id), value: null };
};

export function decodeNode(key: Uint8Array | null, value: Uint8Array | null): Decoded<NodeUpsert | NodeDelete> {
  const id = decodeId(key);
  if (!id.ok) return id;
  if (value === null) return { ok: true, value: { kind: "node-delete", id: id.value } };
  if (value.byteLength < 4) return fail(`node ${id.value}: value of ${value.byteLength} bytes has no meta length`);
  const metaLength = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0, true);
  if (4 + metaLength > value.byteLength) return fail(`node ${id.value}: meta length ${metaLength} runs past the value`);
  const meta = parseJson(value.subarray(4, 4 + metaLength), nodeMeta, `node ${id.value}`);
  if (!meta.ok) return meta;
  const vectorAt = (4 + metaLength + 7) & ~7;
  let features: Vector | undefined;
  if (value.byteLength > vectorAt) {
    try {
      features = decodeVector(value.subarray(vectorAt));
    } catch (error) {
      return fail(`node ${id.value}: features: ${(error as Error).message}`);
    }
  }
  return { ok: true, value: { kind: "node", id: id.value, ...meta.value, ...(features ? { features } : {}) } };
}

export function encodeEdgeKey(src: string, dst: string): Uint8Array {
  checkNodeId(src);
  checkNodeId(dst);
  return enc.encode(`${src}\u0000${dst}`);
}

/** The value of every edge without a weight; shared, since values are never written to after encoding. */
const UNWEIGHTED_EDGE = enc.encode("{}");

export function encodeEdge(edge: Omit<EdgeUpsert, "kind">): { key: Uint8Array; value: Uint8Array } {
  const key = encodeEdgeKey(edge.src, edge.dst);
  if (edge.weight === undefined) return { key, value: UNWEIGHTED_EDGE };
  if (typeof edge.weight !== "number" || !Number.isFinite(edge.weight)) throw new TypeError(`edge ${edge.src} -> ${edge.dst}: weight must be a finite number, got ${JSON.stringify(edge.weight)}`);
  return { key, value: enc.encode(`{"weight":${edge.weight}}`) };
}

export const edgeTombstone = (src: string, dst: string): { key: Uint8Array; value: null } => ({ key: encodeEdgeKey(src, dst), value: null });

export function decodeEdge(key: Uint8Array | null, value: Uint8Array | null): Decoded<EdgeUpsert | EdgeDelete> {
  const ids = decodeId(key);
  if (!ids.ok) return ids;
  const parts = ids.value.split("\u0000");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return fail(`edge key ${JSON.stringify(ids.value)} is not "src NUL dst"`);
  const [src, dst] = parts as [string, string];
  if (value === null) return { ok: true, value: { kind: "edge-delete", src, dst } };
  const meta = parseJson(value, edgeMeta, `edge ${src}->${dst}`);
  if (!meta.ok) return meta;
  return { ok: true, value: { kind: "edge", src, dst, ...meta.value } };
}

export function decodeId(key: Uint8Array | null): Decoded<string> {
  if (key === null || key.byteLength === 0) return fail("record has no key (a node or edge id is required)");
  try {
    return { ok: true, value: idDecoder.decode(key) };
  } catch {
    return fail("key is not valid UTF-8");
  }
}

function parseJson<A>(bytes: Uint8Array, meta: Meta<A>, what: string): Decoded<A> {
  let json: unknown;
  try {
    json = JSON.parse(dec.decode(bytes));
  } catch (error) {
    return fail(`${what}: value is not JSON: ${(error as Error).message}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fail(`${what}: value must be a JSON object, got ${JSON.stringify(json)}`);
  const decoded = meta(json as Record<string, unknown>);
  return typeof decoded === "string" ? fail(`${what}: ${decoded}`) : { ok: true, value: decoded };
}
