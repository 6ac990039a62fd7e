/**
 * Keeps a bank view in step with its topic: reads every partition from tracked positions, decodes
 * the envelopes and hands each version to the view. Bad records go to the dead-letter topic and
 * are skipped. Tracks where it is in the bank topic and in the history, and lets callers wait for
 * a condition on the view.
 */
import type { Log, LogRecord } from "../log/types.ts";
import { PartitionReader } from "../log/partition-reader.ts";
import { sendToDeadLetters, type DeadLetter } from "../schema/dead-letter.ts";
import { decodeEnvelope, type Envelope } from "./codec.ts";
import type { BankTopics } from "./topics.ts";

/** Applies one version; returns a reason when the record must go to the dead letters. */
export type ApplyVersion = (key: string, envelope: Envelope) => string | undefined;

/** Where a view is: everything before these offsets has been applied. */
export interface BankPosition {
  /** Per partition of the bank topic, the next offset to read. */
  readonly offsets: readonly number[];
  /** Per partition of the history topic, one past the newest history offset applied. */
  readonly historyOffsets: readonly number[];
}

export interface AwaitOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

const dec = new TextDecoder("utf-8", { fatal: true });

export class BankFollower {
  private readonly reader: PartitionReader<"bank">;
  private readonly historyOffsets: number[];
  private readonly highWatermarks: number[];
  private waiters: Array<() => void> = [];
  private following: { stop: AbortController; done: Promise<void> } | undefined;
  private failure: unknown;
  applied = 0;

  constructor(
    private readonly log: Log,
    readonly topics: BankTopics,
    readonly partitions: number,
    private readonly apply: ApplyVersion,
    start?: BankPosition,
  ) {
    this.reader = new PartitionReader(log, [{ topic: topics.bank, kind: "bank", partitions }], (_, partition, records, highWatermark) => this.applyBatch(partition, records, highWatermark), 10_000);
    if (start) {
      if (start.offsets.length !== partitions) throw new Error(`bank position has ${start.offsets.length} partitions, ${topics.bank} has ${partitions}`);
      start.offsets.forEach((offset, partition) => this.reader.seek(topics.bank, partition, offset));
    }
    this.historyOffsets = [...(start?.historyOffsets ?? new Array<number>(partitions).fill(0))];
    this.highWatermarks = [...(start?.offsets ?? new Array<number>(partitions).fill(0))];
  }

  position(): BankPosition {
    return { offsets: this.reader.positions().map((p) => p.offset), historyOffsets: [...this.historyOffsets] };
  }

  /** Records in the topic not applied yet, as of the last read of each partition. */
  lag(): number {
    const offsets = this.reader.positions();
    return offsets.reduce((sum, { offset }, p) => sum + Math.max(0, this.highWatermarks[p]! - offset), 0);
  }

  catchUp(): Promise<void> {
    return this.reader.catchUp();
  }

  /** Follows the topic in the background until `stop`. A failure surfaces in `until` and `stop`. */
  start(pollWaitMs = 500): void {
    if (this.following) return;
    const stop = new AbortController();
    const done = this.reader.follow(stop.signal, pollWaitMs).catch((error: unknown) => {
      this.failure = error;
      this.wake();
    });
    this.following = { stop, done };
  }

  async stop(): Promise<void> {
    if (!this.following) return;
    this.following.stop.abort();
    await this.following.done;
    this.following = undefined;
    this.wake();
  }

  /** Resolves once `condition` holds, re-checking after every applied batch. */
  until(condition: () => boolean, what: string, options: AwaitOptions = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (error?: unknown) => {
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.waiters = this.waiters.filter((w) => w !== check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = () => {
        if (condition()) finish();
        else if (this.failure !== undefined) finish(this.failure);
        else if (!this.following) finish(new Error(`${this.topics.bank}: the view stopped following before ${what}`));
      };
      const onAbort = () => finish(options.signal!.reason ?? new Error(`${this.topics.bank}: aborted waiting for ${what}`));
      if (options.timeoutMs !== undefined) timer = setTimeout(() => finish(new Error(`${this.topics.bank}: timed out after ${options.timeoutMs} ms waiting for ${what}`)), options.timeoutMs);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(check);
      if (options.signal?.aborted) onAbort();
      else if (condition()) finish();
      else if (!this.following) finish(new Error(`${this.topics.bank}: the view is not following its topic, so ${what} cannot happen`));
    });
  }

  private async applyBatch(partition: number, records: readonly LogRecord[], highWatermark: number): Promise<void> {
    this.highWatermarks[partition] = highWatermark;
    if (records.length === 0) return;
    const letters: DeadLetter[] = [];
    for (const record of records) {
      const reason = this.applyRecord(partition, record);
      if (reason !== undefined) letters.push({ topic: this.topics.bank, partition, record, reason });
    }
    this.applied += records.length;
    await sendToDeadLetters(this.log, letters);
    this.wake();
  }

  private applyRecord(partition: number, record: LogRecord): string | undefined {
    if (record.key === null) return "bank record has no key";
    let key: string;
    let envelope: Envelope;
    try {
      key = dec.decode(record.key);
      envelope = decodeEnvelope(record.value);
    } catch (error) {
      return (error as Error).message;
    }
    const reason = this.apply(key, envelope);
    if (reason === undefined && envelope.historyOffset >= this.historyOffsets[partition]!) this.historyOffsets[partition] = envelope.historyOffset + 1;
    return reason;
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
