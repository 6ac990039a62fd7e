/**
 * Reads every partition of a set of topics from tracked positions, handing each batch to one
 * handler. Reads of one partition are serialised (a `catchUp` during `follow` queues behind the
 * follower's read), so no record is applied twice and positions only move forward. A batch is
 * records (`PartitionReader`) or columns (`ColumnPartitionReader`, for readers that materialise
 * many records without an object for each).
 */
import type { Log, LogRecord, ReadOptions, RecordColumns, TopicPartitionOffset } from "./types.ts";

export interface Source<K extends string> {
  readonly topic: string;
  readonly kind: K;
  readonly partitions: number;
}

/** Called after every read, also an empty one, with the partition's high watermark as the read saw it. */
export type BatchHandler<K extends string, B = readonly LogRecord[]> = (source: Source<K>, partition: number, batch: B, highWatermark: number) => Promise<void>;

interface Batch<B> {
  readonly batch: B;
  readonly nextOffset: number;
  readonly highWatermark: number;
}

interface Cursor<K extends string> {
  readonly source: Source<K>;
  readonly partition: number;
  offset: number;
  /** The last queued read of this partition. */
  queue: Promise<void>;
}

abstract class CursorReader<K extends string, B> {
  private readonly cursors: Cursor<K>[];

  constructor(
    protected readonly log: Log,
    sources: readonly Source<K>[],
    private readonly handle: BatchHandler<K, B>,
    private readonly maxRecords: number,
  ) {
    this.cursors = sources.flatMap((source) =>
      Array.from({ length: source.partitions }, (_, partition) => ({ source, partition, offset: 0, queue: Promise.resolve() })),
    );
  }

  /** The next offset to read of every partition. */
  positions(): TopicPartitionOffset[] {
    return this.cursors.map(({ source, partition, offset }) => ({ topic: source.topic, partition, offset }));
  }

  /** Moves a partition's next offset, before reading starts (e.g. to resume from a snapshot). */
  seek(topic: string, partition: number, offset: number): void {
    const cursor = this.cursors.find((c) => c.source.topic === topic && c.partition === partition);
    if (!cursor) throw new Error(`seek: ${topic}[${partition}] is not read here`);
    cursor.offset = offset;
  }

  /**
   * Reads every partition up to its high watermark as of this call, sources in the order given.
   * `before` first learns how many offsets that covers: an upper bound on the records to come.
   */
  async catchUp(before?: (offsets: number) => void): Promise<void> {
    const targets = new Map<string, readonly number[]>();
    for (const cursor of this.cursors) {
      if (!targets.has(cursor.source.topic)) {
        const offsets = await this.log.offsets(cursor.source.topic);
        targets.set(cursor.source.topic, offsets.map((o) => o.highWatermark));
      }
    }
    before?.(this.cursors.reduce((sum, c) => sum + Math.max(0, targets.get(c.source.topic)![c.partition]! - c.offset), 0));
    for (const cursor of this.cursors) {
      const target = targets.get(cursor.source.topic)![cursor.partition]!;
      while (cursor.offset < target) await this.step(cursor, {});
    }
  }

  /**
   * Reads every partition up to (not including) the given offset and no further: the state of the
   * topics as of a recorded position, as replay needs. Fails if a target is past the partition's end.
   */
  async readUntil(target: (topic: string, partition: number) => number): Promise<void> {
    for (const cursor of this.cursors) {
      const end = target(cursor.source.topic, cursor.partition);
      while (cursor.offset < end) {
        const before = cursor.offset;
        await this.step(cursor, {}, end);
        if (cursor.offset === before) throw new Error(`${cursor.source.topic}[${cursor.partition}] ends at ${before}, before the recorded offset ${end}`);
      }
    }
  }

  /**
   * Tails every partition with long-poll reads until `signal` aborts (then resolves); rejects on the
   * first failure. Settles only once every partition's read has ended, so that none runs on after
   * it (on a log closed meanwhile, say); a read cut short by the abort is not a failure.
   */
  async follow(signal: AbortSignal, waitMs: number): Promise<void> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) stop.abort();
    const failures: unknown[] = [];
    try {
      await Promise.all(
        this.cursors.map(async (cursor) => {
          try {
            while (!stop.signal.aborted) await this.step(cursor, { waitMs, signal: stop.signal });
          } catch (error) {
            if (stop.signal.aborted) return;
            failures.push(error);
            stop.abort();
          }
        }),
      );
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    if (failures.length > 0) throw failures[0];
  }

  protected abstract read(topic: string, partition: number, offset: number, options: ReadOptions, end?: number): Promise<Batch<B>>;

  /** Reads the next batch of a partition (only records before `end`, when given) and hands it over. */
  private step(cursor: Cursor<K>, options: ReadOptions, end?: number): Promise<void> {
    const run = cursor.queue.then(async () => {
      const { source, partition } = cursor;
      const maxRecords = end === undefined ? this.maxRecords : Math.max(1, Math.min(this.maxRecords, end - cursor.offset));
      const result = await this.read(source.topic, partition, cursor.offset, { ...options, maxRecords }, end);
      // Moved before the handler runs, so that whatever the handler wakes sees positions that include the batch.
      const previous = cursor.offset;
      cursor.offset = Math.max(cursor.offset, result.nextOffset);
      try {
        await this.handle(source, partition, result.batch, result.highWatermark);
      } catch (error) {
        cursor.offset = previous;
        throw error;
      }
    });
    cursor.queue = run.catch(() => undefined);
    return run;
  }
}

/** Hands each read to the handler as records. */
export class PartitionReader<K extends string> extends CursorReader<K, readonly LogRecord[]> {
  protected async read(topic: string, partition: number, offset: number, options: ReadOptions, end?: number): Promise<Batch<readonly LogRecord[]>> {
    const { records, nextOffset, highWatermark } = await this.log.read(topic, partition, offset, options);
    // Offsets of a compacted topic have gaps, so a read can pass `end` even with maxRecords bounded.
    if (end === undefined || nextOffset <= end) return { batch: records, nextOffset, highWatermark };
    return { batch: records.filter((r) => r.offset < end), nextOffset: end, highWatermark };
  }
}

/** Hands each read to the handler as columns (`Log.readColumns`): no object per record. */
export class ColumnPartitionReader<K extends string> extends CursorReader<K, RecordColumns> {
  protected async read(topic: string, partition: number, offset: number, options: ReadOptions, end?: number): Promise<Batch<RecordColumns>> {
    const { columns, nextOffset, highWatermark } = await this.log.readColumns(topic, partition, offset, options);
    if (end === undefined || nextOffset <= end) return { batch: columns, nextOffset, highWatermark };
    let count = 0;
    while (count < columns.count && columns.offsets[count]! < end) count++;
    return { batch: { ...columns, count }, nextOffset: end, highWatermark };
  }
}
