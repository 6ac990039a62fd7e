/**
 * Keeps a bank view in step with its topic: reads every partition from tracked positions as
 * columns, decodes the envelopes in place and hands each version to the view. Bad records go to
 * the dead-letter topic and are skipped. Tracks where it is in the bank topic and in the history,
 * and lets callers wait for a condition on the view.
 */
import { ColumnPartitionReader } from "../log/partition-reader.ts";
import type { Log, RecordColumns } from "../log/types.ts";
import { sendToDeadLetters, type DeadLetter } from "../schema/dead-letter.ts";
import type { Envelope } from "./codec.ts";
import type { BankTopics } from "./topics.ts";
import { VersionCursor } from "./version-cursor.ts";
import { Conditions, type WaitOptions } from "../conditions.ts";

/** Applies one version; returns a reason when the record must go to the dead letters. */
export type ApplyVersion = (key: string, envelope: Envelope) => string | undefined;

/** What a view gives its follower: versions applied straight from the read's buffer. */
export interface BankApplier {
  /** Applies the version under the cursor (valid only during the call); returns a reason when the record must go to the dead letters. */
  applyVersion(version: VersionCursor): string | undefined;
  /** Up to `versions` more versions are about to be applied (a catch-up's upper bound): room can be made at once. */
  reserve?(versions: number): void;
}

/** Where a view is: everything before these offsets has been applied. */
export interface BankPosition {
  /** Per partition of the bank topic, the next offset to read. */
  readonly offsets: readonly number[];
  /** Per partition of the history topic, one past the newest history offset applied. */
  readonly historyOffsets: readonly number[];
}

export type AwaitOptions = WaitOptions;

/** Records per read: several moderate reads beat one huge one (bench/log.ts). */
const READ_RECORDS = 10_000;

export class BankFollower {
  private readonly reader: ColumnPartitionReader<"bank">;
  private readonly applier: BankApplier;
  private readonly cursor = new VersionCursor();
  private readonly historyOffsets: number[];
  private readonly highWatermarks: number[];
  private readonly conditions = new Conditions();
  private following: { stop: AbortController; done: Promise<void> } | undefined;
  private failure: unknown;
  applied = 0;

  /**
   * `source: "history"` materialises the bank from its append-only history instead, up to the
   * positions given to `replayTo`: the bank as a past reader saw it, even after compaction.
   */
  constructor(
    private readonly log: Log,
    readonly topics: BankTopics,
    readonly partitions: number,
    apply: ApplyVersion | BankApplier,
    start?: BankPosition,
    private readonly source: "bank" | "history" = "bank",
  ) {
    this.applier = typeof apply === "function" ? { applyVersion: (version) => apply(version.key(), version.envelope()) } : apply;
    const topic = source === "bank" ? topics.bank : topics.history;
    this.reader = new ColumnPartitionReader(log, [{ topic, kind: "bank", partitions }], (_, partition, columns, highWatermark) => this.applyBatch(partition, columns, highWatermark), READ_RECORDS);
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
    if (this.source === "history") throw new Error(`${this.topics.bank}: a view of the history moves only by replayTo`);
    return this.reader.catchUp((offsets) => this.applier.reserve?.(offsets));
  }

  /** A history view: applies the history up to these offsets (one past the newest version a past reader had applied, per partition). */
  async replayTo(historyOffsets: readonly number[]): Promise<void> {
    if (this.source !== "history") throw new Error(`${this.topics.bank}: replayTo needs a view of the history`);
    if (historyOffsets.length !== this.partitions) throw new Error(`${this.topics.history}: a position of ${historyOffsets.length} partitions, the topic has ${this.partitions}`);
    for (let p = 0; p < this.partitions; p++) {
      if (historyOffsets[p]! < this.historyOffsets[p]!) throw new Error(`${this.topics.history}[${p}]: replay cannot go back from ${this.historyOffsets[p]} to ${historyOffsets[p]}`);
    }
    await this.reader.readUntil((_, partition) => historyOffsets[partition]!);
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

  /** Resolves once `condition` holds, re-checking after every read of the topic. */
  until(condition: () => boolean, what: string, options: AwaitOptions = {}): Promise<void> {
    return this.conditions.until(condition, what, {
      ...options,
      subject: this.topics.bank,
      blocked: (starting) => {
        if (starting) return this.failure ?? (this.following ? undefined : new Error(`${this.topics.bank}: the view is not following its topic, so ${what} cannot happen`));
        return this.failure ?? (this.following ? undefined : new Error(`${this.topics.bank}: the view stopped following before ${what}`));
      },
    });
  }

  private async applyBatch(partition: number, columns: RecordColumns, highWatermark: number): Promise<void> {
    this.highWatermarks[partition] = highWatermark;
    // Nothing applied, but the lag may have changed.
    if (columns.count === 0) return this.wake();
    const letters: DeadLetter[] = [];
    this.applyRecords(partition, columns, letters);
    this.applied += columns.count;
    // A replay meets the bad records the original reader already sent to the dead letters.
    await sendToDeadLetters(this.log, letters);
    this.wake();
  }

  /**
   * The loop alone, with nothing after it: V8 compiles a long loop while it runs, before the code
   * after it has ever run, and this Node then deoptimised there on every later batch.
   */
  private applyRecords(partition: number, columns: RecordColumns, letters: DeadLetter[]): void {
    const { cursor, applier, historyOffsets } = this;
    cursor.reset(columns);
    const fromHistory = this.source === "history";
    for (let i = 0; i < columns.count; i++) {
      const reason = cursor.moveTo(i) ?? applier.applyVersion(cursor);
      if (fromHistory) historyOffsets[partition] = columns.offsets[i]! + 1;
      else if (reason !== undefined) letters.push({ topic: this.topics.bank, partition, record: cursor.record(), reason });
      else if (cursor.historyOffset >= historyOffsets[partition]!) historyOffsets[partition] = cursor.historyOffset + 1;
    }
  }

  private wake(): void {
    this.conditions.wake();
  }
}
