/**
 * Model checkpoints as bytes, in chunks small enough for any broker's message size.
 *
 * A checkpoint is `u32 header bytes | header JSON | pad to 4 | float32 values of every weight`,
 * the header naming the step, the model and each weight's shape. It travels as chunks:
 *   magic u16 "CK" | version u8 | reserved u8 | chunk u32 | chunks u32 | reserved u32 | step f64 | bytes
 */
import type { NamedWeight } from "../../graph/gnn/model.ts";

export interface Checkpoint {
  readonly step: number;
  /** The model's kind (e.g. "gcn") and whatever a maker needs to rebuild it. */
  readonly model: { readonly kind: string; readonly config: Readonly<Record<string, unknown>> };
  readonly weights: readonly NamedWeight[];
}

export class CheckpointFormatError extends Error {
  override readonly name = "CheckpointFormatError";
}

const MAGIC = 0x4b43; // "CK" little-endian
const VERSION = 1;
const CHUNK_HEADER = 24;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const header = enc.encode(JSON.stringify({ step: checkpoint.step, model: checkpoint.model, weights: checkpoint.weights.map(({ name, shape }) => ({ name, shape })) }));
  const valuesAt = (4 + header.byteLength + 3) & ~3;
  const floats = checkpoint.weights.reduce((sum, w) => sum + w.values.length, 0);
  const bytes = new Uint8Array(valuesAt + floats * 4);
  new DataView(bytes.buffer).setUint32(0, header.byteLength, true);
  bytes.set(header, 4);
  const values = new Float32Array(bytes.buffer, valuesAt, floats);
  let at = 0;
  for (const w of checkpoint.weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (size !== w.values.length) throw new CheckpointFormatError(`weight ${w.name} of shape [${w.shape}] has ${w.values.length} values`);
    values.set(w.values, at);
    at += size;
  }
  return bytes;
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (bytes.byteLength < 4) throw new CheckpointFormatError("checkpoint is shorter than its header length");
  const own = bytes.slice();
  const headerLength = new DataView(own.buffer).getUint32(0, true);
  if (4 + headerLength > own.byteLength) throw new CheckpointFormatError("checkpoint header is truncated");
  const header = JSON.parse(dec.decode(own.subarray(4, 4 + headerLength))) as { step: number; model: Checkpoint["model"]; weights: { name: string; shape: number[] }[] };
  let at = (4 + headerLength + 3) & ~3;
  const weights = header.weights.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    if (at + size * 4 > own.byteLength) throw new CheckpointFormatError(`checkpoint is truncated in weight ${name}`);
    const values = new Float32Array(own.buffer, at, size);
    at += size * 4;
    return { name, shape, values };
  });
  if (at !== own.byteLength) throw new CheckpointFormatError(`checkpoint has ${own.byteLength - at} trailing bytes`);
  return { step: header.step, model: header.model, weights };
}

export interface CheckpointChunk {
  readonly step: number;
  readonly chunk: number;
  readonly chunks: number;
  readonly bytes: Uint8Array;
}

export function chunkCheckpoint(step: number, bytes: Uint8Array, chunkBytes: number): Uint8Array[] {
  const chunks = Math.max(1, Math.ceil(bytes.byteLength / chunkBytes));
  return Array.from({ length: chunks }, (_, chunk) => {
    const part = bytes.subarray(chunk * chunkBytes, (chunk + 1) * chunkBytes);
    const out = new Uint8Array(CHUNK_HEADER + part.byteLength);
    const view = new DataView(out.buffer);
    view.setUint16(0, MAGIC, true);
    view.setUint8(2, VERSION);
    view.setUint32(4, chunk, true);
    view.setUint32(8, chunks, true);
    view.setFloat64(16, step, true);
    out.set(part, CHUNK_HEADER);
    return out;
  });
}

export function decodeChunk(bytes: Uint8Array | null): CheckpointChunk {
  if (bytes === null || bytes.byteLength < CHUNK_HEADER) throw new CheckpointFormatError("checkpoint chunk is shorter than its header");
  const view = new DataView(bytes.buffer, bytes.byteOffset, CHUNK_HEADER);
  if (view.getUint16(0, true) !== MAGIC) throw new CheckpointFormatError("not a checkpoint chunk (bad magic number)");
  if (view.getUint8(2) !== VERSION) throw new CheckpointFormatError(`checkpoint chunk version ${view.getUint8(2)} is not supported`);
  const chunk = view.getUint32(4, true);
  const chunks = view.getUint32(8, true);
  if (chunk >= chunks) throw new CheckpointFormatError(`checkpoint chunk ${chunk} of ${chunks}`);
  return { step: view.getFloat64(16, true), chunk, chunks, bytes: bytes.subarray(CHUNK_HEADER) };
}
