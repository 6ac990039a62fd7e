/**
 * The bank versions of one columnar read, one at a time, decoded in place: the envelope fields are
 * read straight from the read's buffer, and a key becomes a string or a payload a view only when
 * an applier asks. The cursor is reused from record to record.
 */
import { columnKey, columnValue } from "../log/columns.ts";
import type { Bytes, RecordColumns } from "../log/types.ts";
import { decodeEnvelope, encodeEnvelope, ENVELOPE_BYTES, type Envelope, type PayloadKind } from "./codec.ts";
import { readKey } from "./key-bytes.ts";
import { idDecoder } from "../schema/utf8.ts";

// The fixed bytes of every envelope (magic and version), as codec.ts writes them.
const TEMPLATE = encodeEnvelope("deleted", -1);
const [MAGIC0, MAGIC1, VERSION] = [TEMPLATE[0]!, TEMPLATE[1]!, TEMPLATE[2]!];
const KIND_AT = 3;
const HISTORY_OFFSET_AT = 8;
const EMPTY = new Uint8Array(0);


export class VersionCursor {
  private columns: RecordColumns | undefined;
  private keyStarts: Uint32Array = new Uint32Array(0);
  private keyLengths: Int32Array = new Int32Array(0);
  private valueStarts: Uint32Array = new Uint32Array(0);
  private valueLengths: Int32Array = new Int32Array(0);
  /** The read's buffers (one and the same on both backends, but they need not be). */
  keyData: Uint8Array = EMPTY;
  valueData: Uint8Array = EMPTY;
  /** `valueData` as a DataView. */
  valueView: DataView = new DataView(EMPTY.buffer);
  /** Kind of each envelope kind code seen so far, learnt from codec.ts on first sight. */
  private readonly kinds: (PayloadKind | undefined)[] = [];

  index = -1;
  keyStart = 0;
  keyLength = 0;
  /** `hashBytes` of the key. */
  keyHash = 0;
  kind: PayloadKind = "deleted";
  historyOffset = -1;
  /** Where the payload (after the envelope) starts in `valueData`, and its length. */
  payloadStart = 0;
  payloadLength = 0;

  /** Starts on a new read. */
  reset(columns: RecordColumns): void {
    this.columns = columns;
    ({ keyStart: this.keyStarts, keyLength: this.keyLengths, valueStart: this.valueStarts, valueLength: this.valueLengths } = columns);
    this.keyData = columns.keyData;
    this.valueData = columns.valueData;
    this.valueView = new DataView(this.valueData.buffer, this.valueData.byteOffset, this.valueData.byteLength);
    this.index = -1;
  }

  /** Moves to record `i`; returns why it is not a bank version (to send it to the dead letters), else undefined. */
  moveTo(i: number): string | undefined {
    this.index = i;
    this.keyStart = this.keyStarts[i]!;
    this.keyLength = this.keyLengths[i]!;
    if (this.keyLength < 0) return "bank record has no key";
    if (!readKey(this.keyData, this.keyStart, this.keyLength, this)) return "bank record key is not valid UTF-8";
    const at = this.valueStarts[i]!;
    const length = this.valueLengths[i]!;
    const d = this.valueData;
    const kind = length >= ENVELOPE_BYTES && d[at] === MAGIC0 && d[at + 1] === MAGIC1 && d[at + 2] === VERSION ? this.kinds[d[at + KIND_AT]!] : undefined;
    if (kind === undefined) return this.decodeSlowly(at, length);
    this.kind = kind;
    this.historyOffset = this.valueView.getFloat64(at + HISTORY_OFFSET_AT, true);
    this.payloadStart = at + ENVELOPE_BYTES;
    this.payloadLength = length - ENVELOPE_BYTES;
    return undefined;
  }

  /** The key as a string. */
  key(): string {
    return idDecoder.decode(this.keyBytes());
  }

  keyBytes(): Bytes {
    return columnKey(this.columns!, this.index)!;
  }

  /** The payload, as a view into the read's buffer. */
  payload(): Bytes {
    return new Uint8Array(this.valueData.buffer, this.valueData.byteOffset + this.payloadStart, this.payloadLength);
  }

  envelope(): Envelope {
    return { kind: this.kind, historyOffset: this.historyOffset, payload: this.payload() };
  }

  /** The record as it was read, for a dead letter. */
  record(): { key: Bytes | null; value: Bytes | null; offset: number } {
    const columns = this.columns!;
    return { key: columnKey(columns, this.index), value: columnValue(columns, this.index), offset: columns.offsets[this.index]! };
  }

  /** codec.ts decides (and words the reason) for anything off the fast path, such as a kind code not seen yet. */
  private decodeSlowly(at: number, length: number): string | undefined {
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(columnValue(this.columns!, this.index));
    } catch (error) {
      return (error as Error).message;
    }
    this.kinds[this.valueData[at + KIND_AT]!] = envelope.kind;
    this.kind = envelope.kind;
    this.historyOffset = envelope.historyOffset;
    this.payloadStart = at + ENVELOPE_BYTES;
    this.payloadLength = length - ENVELOPE_BYTES;
    return undefined;
  }
}
