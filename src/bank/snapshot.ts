/**
 * A vector bank's snapshot file: what a view held and where it was in the topic, so a restart
 * loads it and then reads only the tail of the topic. Written to a temporary file, fsynced and
 * renamed, so a crash leaves the previous snapshot or the new one, never half of one.
 *
 *   "CARLSKB1" | u32 header bytes | header JSON | pad to 8 | steps f64[count] | values f32[count·dim] | keys as a JSON array
 */
import { open, readFile, rename } from "node:fs/promises";
import type { BankPosition } from "./follower.ts";

export interface SnapshotHeader {
  readonly topic: string;
  readonly partitions: number;
  readonly dim: number;
  readonly count: number;
  readonly position: BankPosition;
}

export interface SnapshotContents {
  readonly header: SnapshotHeader;
  readonly keys: readonly string[];
  readonly steps: Float64Array;
  /** count × dim, row-major, in the order of `keys`. */
  readonly values: Float32Array;
}

const MAGIC = "CARLSKB1";
const enc = new TextEncoder();
const dec = new TextDecoder();
const align8 = (n: number) => (n + 7) & ~7;

export class SnapshotError extends Error {
  override readonly name = "SnapshotError";
}

export async function writeSnapshot(path: string, contents: SnapshotContents): Promise<void> {
  const { header, keys, steps, values } = contents;
  if (keys.length !== header.count || steps.length !== header.count || values.length !== header.count * header.dim) {
    throw new SnapshotError(`snapshot of ${header.count} keys × ${header.dim} got ${keys.length} keys, ${steps.length} steps, ${values.length} values`);
  }
  const headerBytes = enc.encode(JSON.stringify(header));
  const prefix = new Uint8Array(align8(12 + headerBytes.byteLength));
  prefix.set(enc.encode(MAGIC));
  new DataView(prefix.buffer).setUint32(8, headerBytes.byteLength, true);
  prefix.set(headerBytes, 12);
  const temporary = `${path}.tmp-${process.pid}`;
  const file = await open(temporary, "w");
  try {
    await file.writev([prefix, bytesOf(steps), bytesOf(values), enc.encode(JSON.stringify(keys))]);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}

/** Reads a snapshot, or returns undefined when there is none at `path`. */
export async function readSnapshot(path: string): Promise<SnapshotContents | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (bytes.byteLength < 12 || dec.decode(bytes.subarray(0, 8)) !== MAGIC) throw new SnapshotError(`${path} is not a carls bank snapshot`);
  const headerLength = bytes.readUInt32LE(8);
  const header = JSON.parse(dec.decode(bytes.subarray(12, 12 + headerLength))) as SnapshotHeader;
  const { count, dim } = header;
  let at = align8(12 + headerLength);
  const take = (n: number) => {
    if (at + n > bytes.byteLength) throw new SnapshotError(`${path} is truncated`);
    const part = bytes.subarray(at, at + n);
    at += n;
    return part;
  };
  const steps = new Float64Array(copyOf(take(count * 8)));
  const values = new Float32Array(copyOf(take(count * dim * 4)));
  const keys = JSON.parse(dec.decode(bytes.subarray(at))) as string[];
  if (!Array.isArray(keys) || keys.length !== count) throw new SnapshotError(`${path} should hold ${count} keys`);
  return { header, keys, steps, values };
}

const bytesOf = (array: Float64Array | Float32Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
// Not bytes.slice(): on a Buffer that is a view into the same memory.
const copyOf = (bytes: Uint8Array): ArrayBuffer => new Uint8Array(bytes).buffer;
