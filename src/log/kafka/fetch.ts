import { LogError } from "../errors.ts";
import type { LogRecord, ReadOptions, ReadResult } from "../types.ts";
import { checkOffset, checkPartition, checkTopicName, readLimit } from "../validate.ts";
import { ChunkAssembler } from "./chunking.ts";
import { errorType } from "./failures.ts";
import { READ_UNCOMMITTED, send } from "./internals.ts";
import { partitionOffsets } from "./offsets.ts";
import { RecordCursor } from "./record-batch.ts";
import { COMPACTION_MARKER, payloadBytes } from "./records.ts";
import { fetchRequest, type FetchedPartition } from "./requests.ts";
import type { Wire } from "./wire.ts";

const DEFAULT_MAX_RECORDS = 10_000;
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
/**
 * Size of one Fetch response. A read fetches until maxRecords or maxBytes is reached, so this
 * bounds what is fetched beyond those limits and then dropped (batches past them are not decoded).
 */
const FETCH_BYTES = 4 * 1024 * 1024;

/** Rejects with the signal's reason as soon as it aborts; the request itself runs on. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

export interface Fetched extends FetchedPartition {
  /** Where the fetch started: the offset asked for, or the log start offset if that was below it. */
  readonly from: number;
}

/**
 * One Fetch request from `offset` (or from the log start, if `offset` is below it). It goes over
 * kafkajs's fetch connection of the leader, which the broker serves in order: a `waitMs` other
 * than 0 holds up every fetch behind it (reads wait in long-poll.ts instead).
 */
export async function fetchFrom(
  wire: Wire,
  topic: string,
  partition: number,
  offset: number,
  maxBytes: number,
  waitMs: number,
  signal: AbortSignal | undefined,
): Promise<Fetched> {
  let from = offset;
  for (let attempt = 0; ; attempt++) {
    try {
      const request = fetchRequest(topic, partition, from, maxBytes, waitMs, READ_UNCOMMITTED);
      return { ...(await abortable(wire.onLeader(topic, partition, (broker) => send(broker, request)), signal)), from };
    } catch (error) {
      if (errorType(error) !== "OFFSET_OUT_OF_RANGE" || attempt > 2) throw error;
      const { logStartOffset, highWatermark } = await partitionOffsets(wire, topic, partition);
      if (offset > highWatermark) {
        throw new LogError("InvalidOffset", `offset ${offset} of ${topic}[${partition}] is beyond its high watermark ${highWatermark}`);
      }
      // Below the log start (retention or compaction removed it): read from the first record kept.
      from = Math.max(offset, logStartOffset);
    }
  }
}

/** Where a read puts the records it takes: LogRecords (`read`) or columns (`readColumns`). */
export interface RecordSink<R> {
  /** Takes the cursor's record (not a chunk of a larger value); `record` is it as a LogRecord, when one was made. */
  take(cursor: RecordCursor, record?: LogRecord): void;
  /** Takes a value put together from chunks, as its own LogRecord. */
  takeRecord(record: LogRecord): void;
  readonly count: number;
  result(): R;
}

/** Collects LogRecords. */
class RecordList implements RecordSink<LogRecord[]> {
  private readonly records: LogRecord[] = [];
  get count(): number {
    return this.records.length;
  }
  take(cursor: RecordCursor, record = cursor.record()): void {
    this.records.push(record);
  }
  takeRecord(record: LogRecord): void {
    this.records.push(record);
  }
  result(): LogRecord[] {
    return this.records;
  }
}

/**
 * Reads one partition from an explicit offset with plain Fetch requests, outside any consumer
 * group, fetching until maxRecords or maxBytes is reached or the partition's end. Chunked values
 * are reassembled; one cut off by the end of the window is left for the next read (nextOffset
 * stays on its first chunk), except that a read returning nothing else keeps fetching until the
 * value is complete, so a value larger than `maxBytes` still comes through.
 *
 * Fetches do not wait: when one finds nothing new and `waitMs` has not run out, the read waits
 * with the other waiting reads of the process (see long-poll.ts), which hand it the records that
 * arrive, or tell it to fetch again.
 */
export async function readPartition(wire: Wire, topic: string, partition: number, offset: number, options: ReadOptions = {}): Promise<ReadResult> {
  const { taken, ...rest } = await readInto(wire, topic, partition, offset, options, new RecordList());
  return { records: taken, ...rest };
}

/** `readPartition`, handing the records to `sink` instead; `taken` is its result. */
export async function readInto<R>(
  wire: Wire,
  topic: string,
  partition: number,
  offset: number,
  options: ReadOptions,
  sink: RecordSink<R>,
): Promise<Omit<ReadResult, "records"> & { readonly taken: R }> {
  checkTopicName(topic);
  const { partitions } = await wire.topic(topic);
  checkPartition(topic, partition, partitions);
  checkOffset(topic, partition, offset);
  const maxRecords = readLimit("maxRecords", options.maxRecords, DEFAULT_MAX_RECORDS, 1);
  const maxBytes = readLimit("maxBytes", options.maxBytes, DEFAULT_MAX_BYTES, 1);
  const deadline = Date.now() + readLimit("waitMs", options.waitMs, 0, 0);

  const assembler = new ChunkAssembler();
  const cursor = new RecordCursor();
  let bytes = 0;
  let position = offset; // next offset to fetch
  let nextOffset = offset; // next offset the caller should read: never inside an incomplete value
  let last: Fetched | undefined; // the latest fetch, once there is one
  for (;;) {
    const fetchBytes = Math.max(1, Math.min(FETCH_BYTES, maxBytes - bytes - assembler.pendingBytes));
    let fetched: Fetched | null = null;
    if (last !== undefined) {
      // The latest fetch found nothing new (it would have returned or gone on otherwise) and there is time left.
      const woken = await wire.longPolls.wait(topic, partition, position, fetchBytes, deadline, options.signal, last);
      if (woken !== null) fetched = { ...woken, from: position };
    }
    fetched ??= await fetchFrom(wire, topic, partition, position, fetchBytes, 0, options.signal);
    if (fetched.from > position) position = nextOffset = fetched.from;
    const result = () => ({ taken: sink.result(), nextOffset, highWatermark: fetched.highWatermark, logStartOffset: fetched.logStartOffset });
    let received = false;
    for (const batch of fetched.batches) {
      received = true;
      cursor.reset(batch);
      while (cursor.next()) {
        if (cursor.offset < position) continue;
        position = cursor.offset + 1;
        if (!cursor.keyEquals(COMPACTION_MARKER)) {
          if (cursor.headerCount === 0) {
            // Not a chunk: taken as it is, without a LogRecord.
            assembler.reset();
            sink.take(cursor);
            bytes += cursor.payloadBytes();
          } else {
            const record = cursor.record();
            const delivered = assembler.push(record);
            if (delivered === record) sink.take(cursor, record);
            else if (delivered) sink.takeRecord(delivered);
            if (delivered) bytes += payloadBytes(delivered);
          }
        }
        if (assembler.pendingFrom === null) nextOffset = position;
        if (sink.count >= maxRecords || (bytes >= maxBytes && sink.count > 0)) return result();
      }
      // Past a compaction gap at the end of the batch, or a control batch.
      if (batch.lastOffset >= position) {
        position = batch.lastOffset + 1;
        if (assembler.pendingFrom === null) nextOffset = position;
      }
    }
    // Below the limits: go on while the partition has more (but leave a chunked value that does
    // not fit in maxBytes with the records already read to the next read), else wait, if asked,
    // for the first records.
    const more =
      received &&
      position < fetched.highWatermark &&
      (sink.count === 0 || bytes + assembler.pendingBytes < maxBytes);
    if (!more && (sink.count > 0 || Date.now() >= deadline)) return result();
    last = more ? undefined : fetched;
  }
}
