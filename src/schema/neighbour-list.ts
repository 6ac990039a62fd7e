/**
 * A node's nearest neighbours, as a bank stores them: ids best first, with their distances, tagged
 * with the checkpoint step of the embeddings they were found from. Little-endian:
 *
 *   magic u16 "NL" | version u8 | reserved u8 | count u32 | step f64 | distances f32[count] | (byteLength u16, utf8 id)[count]
 */
import { isUtf8 } from "node:buffer";
import { idDecoder } from "./utf8.ts";

export interface NeighbourList {
  readonly step: number;
  readonly ids: readonly string[];
  readonly distances: Float32Array;
}

/**
 * A list as decoded from a bank: its ids stay UTF-8 until someone asks for them as strings, since
 * most readers only resolve them to node indices (a bank's lists are tens of thousands of ids a version).
 */
export class DecodedNeighbourList implements NeighbourList {
  #ids: string[] | undefined;

  constructor(
    readonly step: number,
    readonly distances: Float32Array,
    /** The ids' UTF-8, back to back: id k is `idData[idStarts[k] .. idStarts[k + 1]]`. */
    readonly idData: Uint8Array,
    readonly idStarts: Uint32Array,
  ) {}

  get ids(): readonly string[] {
    this.#ids ??= Array.from(this.distances, (_, k) => idDecoder.decode(this.idData.subarray(this.idStarts[k]!, this.idStarts[k + 1]!)));
    return this.#ids;
  }

  /** As the list was written (the ids as strings). */
  toJSON(): NeighbourList {
    return { step: this.step, ids: this.ids, distances: this.distances };
  }
}

export class NeighbourListFormatError extends Error {
  override readonly name = "NeighbourListFormatError";
}

const MAGIC = 0x4c4e; // "NL" little-endian
const VERSION = 1;
const HEADER_BYTES = 16;
const enc = new TextEncoder();

export function encodeNeighbourList(list: NeighbourList): Uint8Array {
  const count = list.ids.length;
  if (list.distances.length !== count) throw new NeighbourListFormatError(`neighbour list has ${count} ids but ${list.distances.length} distances`);
  const ids = list.ids.map((id) => enc.encode(id));
  const tooLong = ids.findIndex((id) => id.byteLength > 0xffff);
  if (tooLong >= 0) throw new NeighbourListFormatError(`neighbour id ${tooLong} is longer than 65,535 bytes`);
  const bytes = new Uint8Array(HEADER_BYTES + 4 * count + ids.reduce((sum, id) => sum + 2 + id.byteLength, 0));
  const view = new DataView(bytes.buffer);
  view.setUint16(0, MAGIC, true);
  view.setUint8(2, VERSION);
  view.setUint32(4, count, true);
  view.setFloat64(8, list.step, true);
  for (let i = 0; i < count; i++) view.setFloat32(HEADER_BYTES + 4 * i, list.distances[i]!, true);
  let at = HEADER_BYTES + 4 * count;
  for (const id of ids) {
    view.setUint16(at, id.byteLength, true);
    bytes.set(id, at + 2);
    at += 2 + id.byteLength;
  }
  return bytes;
}

export function decodeNeighbourList(bytes: Uint8Array): DecodedNeighbourList {
  if (bytes.byteLength < HEADER_BYTES) throw new NeighbourListFormatError(`neighbour list of ${bytes.byteLength} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== MAGIC) throw new NeighbourListFormatError("not a neighbour list (bad magic number)");
  if (view.getUint8(2) !== VERSION) throw new NeighbourListFormatError(`neighbour list version ${view.getUint8(2)} is not supported (this carls reads ${VERSION})`);
  const count = view.getUint32(4, true);
  let at = HEADER_BYTES + 4 * count;
  if (at > bytes.byteLength) throw new NeighbourListFormatError(`neighbour list of ${count} entries is truncated`);
  const distances = new Float32Array(count);
  for (let i = 0; i < count; i++) distances[i] = view.getFloat32(HEADER_BYTES + 4 * i, true);
  // The ids are copied out: the record's bytes may be a read buffer that is used again.
  const idData = new Uint8Array(bytes.byteLength - at); // the ids with room for their length prefixes: a truncated list cannot overrun it
  const idStarts = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) {
    if (at + 2 > bytes.byteLength) throw new NeighbourListFormatError(`neighbour list is truncated at id ${i}`);
    const length = view.getUint16(at, true);
    if (at + 2 + length > bytes.byteLength) throw new NeighbourListFormatError(`neighbour list is truncated at id ${i}`);
    if (!copyUtf8(bytes, at + 2, length, idData, idStarts[i]!)) throw new NeighbourListFormatError(`neighbour id ${i} is not valid UTF-8`);
    idStarts[i + 1] = idStarts[i]! + length;
    at += 2 + length;
  }
  if (at !== bytes.byteLength) throw new NeighbourListFormatError(`neighbour list has ${bytes.byteLength - at} trailing bytes`);
  return new DecodedNeighbourList(view.getFloat64(8, true), distances, idData, idStarts);
}

/** Copies `length` bytes from `from[start ..]` to `to[at ..]`; whether they are valid UTF-8 (ASCII, the common case, is checked on the way). */
function copyUtf8(from: Uint8Array, start: number, length: number, to: Uint8Array, at: number): boolean {
  let any = 0;
  for (let i = 0; i < length; i++) any |= to[at + i] = from[start + i]!;
  return any < 0x80 || isUtf8(to.subarray(at, at + length));
}
