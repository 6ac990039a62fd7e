/**
 * A node's nearest neighbours, as a bank stores them: ids best first, with their distances, tagged
 * with the checkpoint step of the embeddings they were found from. Little-endian:
 *
 *   magic u16 "NL" | version u8 | reserved u8 | count u32 | step f64 | distances f32[count] | (byteLength u16, utf8 id)[count]
 */
export interface NeighbourList {
  readonly step: number;
  readonly ids: readonly string[];
  readonly distances: Float32Array;
}

export class NeighbourListFormatError extends Error {
  override readonly name = "NeighbourListFormatError";
}

const MAGIC = 0x4c4e; // "NL" little-endian
const VERSION = 1;
const HEADER_BYTES = 16;
const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

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

export function decodeNeighbourList(bytes: Uint8Array): NeighbourList {
  if (bytes.byteLength < HEADER_BYTES) throw new NeighbourListFormatError(`neighbour list of ${bytes.byteLength} bytes is shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0, true) !== MAGIC) throw new NeighbourListFormatError("not a neighbour list (bad magic number)");
  if (view.getUint8(2) !== VERSION) throw new NeighbourListFormatError(`neighbour list version ${view.getUint8(2)} is not supported (this carls reads ${VERSION})`);
  const count = view.getUint32(4, true);
  let at = HEADER_BYTES + 4 * count;
  if (at > bytes.byteLength) throw new NeighbourListFormatError(`neighbour list of ${count} entries is truncated`);
  const distances = new Float32Array(count);
  for (let i = 0; i < count; i++) distances[i] = view.getFloat32(HEADER_BYTES + 4 * i, true);
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 2 > bytes.byteLength) throw new NeighbourListFormatError(`neighbour list is truncated at id ${i}`);
    const length = view.getUint16(at, true);
    if (at + 2 + length > bytes.byteLength) throw new NeighbourListFormatError(`neighbour list is truncated at id ${i}`);
    ids.push(dec.decode(bytes.subarray(at + 2, at + 2 + length)));
    at += 2 + length;
  }
  if (at !== bytes.byteLength) throw new NeighbourListFormatError(`neighbour list has ${bytes.byteLength - at} trailing bytes`);
  return { step: view.getFloat64(8, true), ids, distances };
}
