/**
 * The value of a bank record: a 16-byte envelope, then the payload.
 *
 *   magic u16 "KB" | version u8 | kind u8 (0 deleted, 1 vector, 2 neighbour list) | reserved u32 | historyOffset f64
 *
 * `historyOffset` is where the same version sits in the bank's history topic (-1 in the history
 * itself). A view records it, so that replay can rebuild exactly what a trainer saw from the history
 * after the bank topic has been compacted. Deletes are a `deleted` envelope rather than a Kafka
 * tombstone for the same reason: a tombstone could not say where the delete sits in the history.
 */
export const ENVELOPE_BYTES = 16;
const MAGIC = 0x424b; // "KB" little-endian
const VERSION = 1;

export type PayloadKind = "deleted" | "vector" | "neighbours";
const KINDS: readonly PayloadKind[] = ["deleted", "vector", "neighbours"];

export interface Envelope {
  readonly kind: PayloadKind;
  readonly historyOffset: number;
  /** The payload, a view into the record's bytes. */
  readonly payload: Uint8Array;
}

export class BankRecordError extends Error {
  override readonly name = "BankRecordError";
}

export function encodeEnvelope(kind: PayloadKind, historyOffset: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const bytes = new Uint8Array(ENVELOPE_BYTES + payload.byteLength);
  writeEnvelope(new DataView(bytes.buffer), 0, kind, historyOffset);
  bytes.set(payload, ENVELOPE_BYTES);
  return bytes;
}

/** Writes an envelope at `offset` of `target` (zeroed there), for many records in one buffer. */
export function writeEnvelope(target: DataView, offset: number, kind: PayloadKind, historyOffset: number): void {
  target.setUint16(offset, MAGIC, true);
  target.setUint8(offset + 2, VERSION);
  target.setUint8(offset + 3, KINDS.indexOf(kind));
  target.setFloat64(offset + 8, historyOffset, true);
}

/** Reads an envelope; throws BankRecordError naming what is wrong. The payload is not copied. */
export function decodeEnvelope(bytes: Uint8Array | null): Envelope {
  if (bytes === null) throw new BankRecordError("bank record has no value (a tombstone; banks write deleted envelopes)");
  if (bytes.byteLength < ENVELOPE_BYTES) throw new BankRecordError(`bank record of ${bytes.byteLength} bytes is shorter than its ${ENVELOPE_BYTES}-byte envelope`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, ENVELOPE_BYTES);
  if (view.getUint16(0, true) !== MAGIC) throw new BankRecordError("not a bank record (bad magic number)");
  const version = view.getUint8(2);
  if (version !== VERSION) throw new BankRecordError(`bank record version ${version} is not supported (this carls reads ${VERSION})`);
  const kind = KINDS[view.getUint8(3)];
  if (!kind) throw new BankRecordError(`unknown bank payload kind ${view.getUint8(3)}`);
  return { kind, historyOffset: view.getFloat64(8, true), payload: bytes.subarray(ENVELOPE_BYTES) };
}

/** Rewrites the history offset of the envelope at `offset` of `target` in place. */
export function setHistoryOffset(target: DataView, offset: number, historyOffset: number): void {
  target.setFloat64(offset + 8, historyOffset, true);
}
