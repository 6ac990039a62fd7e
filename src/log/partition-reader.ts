/**
 * Reads every partition of a set of topics from tracked positions, handing each batch to one
 * handler. Reads of one partition are serialised (a `catchUp` during `follow` queues behind the
 * follower's read), so no record is applied twice and positions only move forward.
 */
import type { Log, LogRecord, ReadOptions, TopicPartitionOffset } from "./types.ts";

export interface Source<K extends string> {
  readonly topic: string;
  readonly kind: K;
  readonly partitions: number;
}

/** Called after every read, also an empty one, with the partition's high watermark as the read saw it. */
export type BatchHandler<K extends string> = (source: Source<K>, partition: number, records: readonly LogRecord[], highWatermark: number) => Promise<void>;

interface Cursor<K extends string> {
  readonly source: Source<K>;
  readonly partition: number;
  offset: number;
  /** The last queued read of this partition. */
  queue: Promise<void>;
}

export class PartitionReader<K extends string> {
  private readonly cursors: Cursor<K>[];

  constructor(
    private readonly log: Log,
    sources: readonly Source<K>[],
    private readonly handle: BatchHandler<K>,
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

  /** Reads every partition up to its high watermark as of this call, sources in the order given. */
  async catchUp(): Promise<void> {
    const targets = new Map<string, readonly number[]>();
    for (const cursor of this.cursors) {
      if (!targets.has(cursor.source.topic)) {
        const offsets = await this.log.offsets(cursor.source.topic);
        targets.set(cursor.source.topic, offsets.map((o) => o.highWatermark));
      }
    }
    for (const cursor of this.cursors) {
      const target = targets.get(cursor.source.topic)![cursor.partition]!;
      while (cursor.offset < target) await this.step(cursor, {});
    }
  }

  /** Tails every partition with long-poll reads until `signal` aborts; rejects on the first failure. */
  async follow(signal: AbortSignal, waitMs: number): Promise<void> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) stop.abort();
    try {
      await Promise.all(
        this.cursors.map(async (cursor) => {
          try {
            while (!stop.signal.aborted) await this.step(cursor, { waitMs, signal: stop.signal });
          } catch (error) {
            stop.abort();
            throw error;
          }
        }),
      );
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  private step(cursor: Cursor<K>, options: ReadOptions): Promise<void> {
    const run = cursor.queue.then(async () => {
      const { source, partition } = cursor;
      const result = await this.log.read(source.topic, partition, cursor.offset, { ...options, maxRecords: this.maxRecords });
      // Moved before the handler runs, so that whatever the handler wakes sees positions that include the batch.
      const previous = cursor.offset;
      cursor.offset = Math.max(cursor.offset, result.nextOffset);
      try {
        await this.handle(source, partition, result.records, result.highWatermark);
      } catch (error) {
        cursor.offset = previous;
        throw error;
      }
    });
    cursor.queue = run.catch(() => undefined);
    return run;
  }
}
