/**
 * A vector bank's snapshot file: what a view held and where it was in the topic, so a restart
 * loads it and then reads only the tail of the topic. Written to a temporary file, fsynced and
 * renamed, so a crash leaves the previous snapshot or the new one, never half of one.
 *
 *   "CARLSKB2" | u32 header bytes | header JSON | pad to 8 | steps f64[count] | values f32[count·dim]
 *              | key lengths u32[count] | keys, UTF-8, back to back
 *
 * Keys are bytes so that a restore indexes them without making a string for each, and the values
 * are read straight into the caller's storage. Files of the first format ("CARLSKB1", keys as a
 * JSON array at the end) are still read.
 */
import { open, rename, type FileHandle } from "node:fs/promises";
import type { BankPosition } from "./follower.ts";
import type { StoreRows } from "./vector-store.ts";

export interface SnapshotHeader {
  readonly topic: string;
  readonly partitions: number;
  readonly dim: number;
  readonly count: number;
  readonly position: BankPosition;
}

export interface SnapshotFile {
  readonly header: SnapshotHeader;
  readonly rows: StoreRows;
}

/** A snapshot with string keys (what `readSnapshot` and `writeSnapshot` take and give). */
export interface SnapshotContents {
  readonly header: SnapshotHeader;
  readonly keys: readonly string[];
  readonly steps: Float64Array;
  /** count × dim, row-major, in the order of `keys`. */
  readonly values: Float32Array;
}

const MAGIC = "CARLSKB2";
const MAGIC_V1 = "CARLSKB1";
const PREFIX_BYTES = 12;
const enc = new TextEncoder();
const dec = new TextDecoder();
const align8 = (n: number) => (n + 7) & ~7;

export class SnapshotError extends Error {
  override readonly name = "SnapshotError";
}

export async function writeSnapshotFile(path: string, header: SnapshotHeader, rows: StoreRows): Promise<void> {
  const { count, dim, values, steps, keyData, keyLength } = rows;
  if (header.count !== count || header.dim !== dim || steps.length < count || values.length < count * dim) {
    throw new SnapshotError(`snapshot of ${header.count} keys × ${header.dim} got ${count} rows × ${dim}, ${steps.length} steps, ${values.length} values`);
  }
  const headerBytes = enc.encode(JSON.stringify(header));
  const prefix = new Uint8Array(align8(PREFIX_BYTES + headerBytes.byteLength));
  prefix.set(enc.encode(MAGIC));
  new DataView(prefix.buffer).setUint32(8, headerBytes.byteLength, true);
  prefix.set(headerBytes, PREFIX_BYTES);
  const temporary = `${path}.tmp-${process.pid}`;
  const file = await open(temporary, "w");
  try {
    await file.writev([prefix, bytesOf(steps.subarray(0, count)), bytesOf(values.subarray(0, count * dim)), bytesOf(keyLength.subarray(0, count)), keyData]);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}

/**
 * Reads a snapshot, or returns undefined when there is none at `path`. `valuesFor` may give the
 * array the values are read into (at least count × dim floats, e.g. a store's own storage).
 */
export async function readSnapshotFile(path: string, valuesFor?: (header: SnapshotHeader) => Float32Array): Promise<SnapshotFile | undefined> {
  let file: FileHandle;
  try {
    file = await open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const size = (await file.stat()).size;
    let at = 0;
    const take = async <T extends ArrayBufferView>(into: T): Promise<T> => {
      if (at + into.byteLength > size) throw new SnapshotError(`${path} is truncated`);
      await readFully(file, new Uint8Array(into.buffer, into.byteOffset, into.byteLength), at);
      at += into.byteLength;
      return into;
    };
    const prefix = size >= PREFIX_BYTES ? await take(new Uint8Array(PREFIX_BYTES)) : undefined;
    const magic = prefix && dec.decode(prefix.subarray(0, 8));
    if (!prefix || (magic !== MAGIC && magic !== MAGIC_V1)) throw new SnapshotError(`${path} is not a carls bank snapshot`);
    const header = JSON.parse(dec.decode(await take(new Uint8Array(new DataView(prefix.buffer).getUint32(8, true))))) as SnapshotHeader;
    const { count, dim } = header;
    at = align8(at);
    const steps = await take(new Float64Array(count));
    const destination = valuesFor?.(header);
    if (destination && destination.length < count * dim) throw new Error(`snapshot of ${count} × ${dim} values does not fit ${destination.length} floats`);
    const values = await take(destination ? destination.subarray(0, count * dim) : new Float32Array(count * dim));
    const rest = await take(new Uint8Array(size - at));
    const keys = magic === MAGIC ? keysOf(rest, count, path) : keysFromJson(rest, count, path);
    return { header, rows: { count, dim, values, steps, ...keys } };
  } finally {
    await file.close();
  }
}

/** `writeSnapshotFile` for string keys. */
export async function writeSnapshot(path: string, contents: SnapshotContents): Promise<void> {
  const { header, keys, steps, values } = contents;
  if (keys.length !== header.count || steps.length !== header.count || values.length !== header.count * header.dim) {
    throw new SnapshotError(`snapshot of ${header.count} keys × ${header.dim} got ${keys.length} keys, ${steps.length} steps, ${values.length} values`);
  }
  await writeSnapshotFile(path, header, { count: header.count, dim: header.dim, values, steps, ...keysFromStrings(keys) });
}

/** `readSnapshotFile` with string keys. */
export async function readSnapshot(path: string): Promise<SnapshotContents | undefined> {
  const file = await readSnapshotFile(path);
  if (!file) return undefined;
  const { header, rows } = file;
  const text = Buffer.from(rows.keyData.buffer, rows.keyData.byteOffset, rows.keyData.byteLength);
  let start = 0;
  const keys = Array.from(rows.keyLength, (length) => text.toString("utf8", start, (start += length)));
  return { header, keys, steps: rows.steps, values: rows.values };
}

type Keys = Pick<StoreRows, "keyData" | "keyLength">;

/** `rest` is a fresh array, so its lengths are aligned for a view. */
function keysOf(rest: Uint8Array, count: number, path: string): Keys {
  if (rest.byteLength < count * 4) throw new SnapshotError(`${path} is truncated`);
  const keyLength = new Uint32Array(rest.buffer, rest.byteOffset, count);
  const keyData = rest.subarray(count * 4);
  const total = keyLength.reduce((sum, n) => sum + n, 0);
  if (total !== keyData.byteLength) throw new SnapshotError(`${path} should hold ${total} bytes of keys, it holds ${keyData.byteLength}`);
  return { keyData, keyLength };
}

function keysFromJson(rest: Uint8Array, count: number, path: string): Keys {
  const keys: unknown = JSON.parse(dec.decode(rest));
  if (!Array.isArray(keys) || keys.length !== count || keys.some((key) => typeof key !== "string")) throw new SnapshotError(`${path} should hold ${count} keys`);
  return keysFromStrings(keys as string[]);
}

function keysFromStrings(keys: readonly string[]): Keys {
  const encoded = keys.map((key) => enc.encode(key));
  const keyLength = Uint32Array.from(encoded, (key) => key.byteLength);
  const keyData = new Uint8Array(keyLength.reduce((sum, n) => sum + n, 0));
  let start = 0;
  for (const key of encoded) {
    keyData.set(key, start);
    start += key.byteLength;
  }
  return { keyData, keyLength };
}

async function readFully(file: FileHandle, into: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < into.byteLength; ) {
    const { bytesRead } = await file.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw new SnapshotError("snapshot ended early");
    done += bytesRead;
  }
}

const bytesOf = (array: Float64Array | Float32Array | Uint32Array) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
