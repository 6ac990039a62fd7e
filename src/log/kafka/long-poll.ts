/**
 * The waiting part of long-poll reads (`read` with `waitMs`), merged per process and leader.
 *
 * A broker answers the requests of one connection strictly in order, so a Fetch that waits holds
 * up every later request on its connection. Waiting is therefore kept off the connections that
 * everything else uses: a read first fetches without waiting (on kafkajs's fetch connection), and
 * only if the partition has nothing new does it join the waiting reads of its leader here. All the
 * waiting reads on one leader are served by a single multi-partition Fetch at a time, sent over a
 * connection of their own (a second kafkajs Cluster, see `Wire#waitingBroker`): the broker answers
 * as soon as any of the partitions has data, or after `WAIT_SLICE_MS`. Reads whose partition got
 * data leave with it; the others join the next Fetch, until their own deadline.
 *
 * A read that starts waiting while a Fetch is in flight is only watched from the next one on, so
 * that Fetch is kept short: data arriving for the newcomer in between is seen at most
 * `WAIT_SLICE_MS` late. (A second Fetch in flight for newcomers would need yet another connection
 * per leader and could itself be overtaken by the next newcomer; an idle leader costs only about
 * ten small requests a second this way.)
 */
import { setTimeout as sleep } from "node:timers/promises";
import { closed } from "./failures.ts";
import { READ_UNCOMMITTED, send } from "./internals.ts";
import { decodeRecordBatches } from "./record-batch.ts";
import { multiFetchRequest, type FetchedPartition, type FetchTarget } from "./requests.ts";
import type { Wire } from "./wire.ts";

/** Longest wait of one merged Fetch. */
export const WAIT_SLICE_MS = 100;
/** Size limit of a merged Fetch's response (each partition's own limit is its read's). */
const RESPONSE_BYTES = 4 * 1024 * 1024;
/** Pause after a merged Fetch failed, doubling per failure in a row up to the maximum. */
const RETRY_PAUSE_MS = 100;
const MAX_RETRY_PAUSE_MS = 2_000;
/** Kafka's error code for success. */
const NONE = 0;

interface Waiter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly maxBytes: number;
  readonly deadline: number;
  /** The latest offsets seen for the partition, for the read's result if nothing comes. */
  highWatermark: number;
  logStartOffset: number;
  /**
   * Ends the wait: with the records fetched from `offset`, with none at the deadline, or with
   * `null` when the read should look for itself with a plain fetch (data is there but was not
   * fetched for it, or the partition, the leader or the connection had an error to report).
   */
  settle(result: FetchedPartition | null): void;
  /** Ends the wait with an error. */
  fail(error: unknown): void;
}

const keyOf = (topic: string, partition: number): string => `${topic}\0${partition}`;

/** Whether a record set holds at least one complete batch (a response may end in a cut-off one). */
function hasCompleteBatch(records: Buffer): boolean {
  return records.length >= 12 && 12 + records.readInt32BE(8) <= records.length;
}

/** The waiting reads on one leader, and the loop of merged Fetches that serves them. */
class LeaderWaits {
  /** Per partition, its waiting reads in order of arrival (a partition is fetched from its first one's offset). */
  private readonly waiting = new Map<string, Waiter[]>();
  private running = false;
  private failures = 0;

  constructor(
    private readonly node: number,
    private readonly wire: Wire,
    private readonly closing: AbortSignal,
  ) {}

  add(waiter: Waiter): void {
    const key = keyOf(waiter.topic, waiter.partition);
    const waiters = this.waiting.get(key);
    if (waiters === undefined) this.waiting.set(key, [waiter]);
    else waiters.push(waiter);
    if (!this.running) void this.run();
  }

  remove(waiter: Waiter): void {
    const key = keyOf(waiter.topic, waiter.partition);
    const waiters = this.waiting.get(key);
    const index = waiters?.indexOf(waiter) ?? -1;
    if (index < 0) return;
    waiters!.splice(index, 1);
    if (waiters!.length === 0) this.waiting.delete(key);
  }

  /** Ends every wait, with `null` (the reads look for themselves) or an error. */
  endAll(error?: unknown): void {
    for (const waiters of [...this.waiting.values()]) {
      for (const waiter of [...waiters]) error === undefined ? waiter.settle(null) : waiter.fail(error);
    }
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.size > 0 && !this.closing.aborted) await this.round();
    } catch {
      // Not expected (a round catches the request's failures): let the reads look for themselves.
      this.endAll();
    } finally {
      this.running = false;
    }
  }

  /** One merged Fetch of every partition waited on, and what it brings to each waiting read. */
  private async round(): Promise<void> {
    const targets: FetchTarget[] = [];
    let latest = 0;
    for (const [first, ...others] of this.waiting.values()) {
      targets.push({ topic: first!.topic, partition: first!.partition, offset: first!.offset, maxBytes: first!.maxBytes });
      latest = Math.max(latest, first!.deadline, ...others.map((w) => w.deadline));
    }
    // Grouped by topic, keeping the order of arrival within each (the broker fills the response in order).
    const order = new Map<string, number>();
    for (const t of targets) if (!order.has(t.topic)) order.set(t.topic, order.size);
    targets.sort((a, b) => order.get(a.topic)! - order.get(b.topic)!);
    const maxWaitMs = Math.max(0, Math.min(WAIT_SLICE_MS, latest - Date.now()));

    let fetched;
    try {
      const broker = await this.wire.waitingBroker(this.node);
      // kafkajs would reconnect a connection closed meanwhile.
      if (this.closing.aborted) throw this.closing.reason;
      fetched = await send(broker, multiFetchRequest(targets, RESPONSE_BYTES, maxWaitMs, READ_UNCOMMITTED));
      this.failures = 0;
    } catch {
      // Each read then fetches for itself, which reports errors (and retries) as reads always have.
      for (const { topic, partition } of targets) {
        for (const waiter of [...(this.waiting.get(keyOf(topic, partition)) ?? [])]) waiter.settle(null);
      }
      const pause = Math.min(MAX_RETRY_PAUSE_MS, RETRY_PAUSE_MS * 2 ** this.failures++);
      await sleep(pause, undefined, { signal: this.closing }).catch(() => {});
      return;
    }

    const asked = new Map(targets.map((t) => [keyOf(t.topic, t.partition), t.offset]));
    for (const { topic, partition, errorCode, highWatermark, logStartOffset, records } of fetched) {
      const key = keyOf(topic, partition);
      const offset = asked.get(key);
      const waiters = this.waiting.get(key);
      if (offset === undefined || waiters === undefined) continue;
      for (const waiter of [...waiters]) {
        if (errorCode !== NONE) {
          waiter.settle(null);
          continue;
        }
        waiter.highWatermark = highWatermark;
        waiter.logStartOffset = logStartOffset;
        if (waiter.offset === offset && hasCompleteBatch(records)) {
          // A copy per read: the records it returns are views of their buffer, which should hold
          // neither other partitions' data (kept alive by any record kept) nor another read's.
          waiter.settle({ highWatermark, logStartOffset, batches: decodeRecordBatches(Buffer.from(records)) });
        } else if (records.length > 0 || (waiter.offset !== offset && highWatermark > waiter.offset)) {
          waiter.settle(null);
        }
        // Otherwise nothing new at its offset (or the response was full before this partition):
        // it stays, in its place, for the next round.
      }
    }
  }
}

/** The waiting reads of one Kafka log. */
export class LongPolls {
  /** By leader node id (a handful: kept once made). */
  private readonly leaders = new Map<number, LeaderWaits>();
  private readonly closing = new AbortController();

  constructor(private readonly wire: Wire) {}

  /**
   * Waits until the partition has records at `offset`, at most until `deadline`. Resolves with
   * records fetched from `offset` (at most about `maxBytes`), with none (and the latest offsets
   * known, starting from `known`) once the deadline has passed, or with `null` when the caller
   * should fetch for itself. Rejects with the signal's reason as soon as it aborts.
   */
  async wait(
    topic: string,
    partition: number,
    offset: number,
    maxBytes: number,
    deadline: number,
    signal: AbortSignal | undefined,
    known: { readonly highWatermark: number; readonly logStartOffset: number },
  ): Promise<FetchedPartition | null> {
    signal?.throwIfAborted();
    if (this.closing.signal.aborted) throw closed();
    const { leaders } = await this.wire.topic(topic);
    const node = leaders[partition];
    if (node === undefined || node < 0) return null;
    signal?.throwIfAborted();
    let leader = this.leaders.get(node);
    if (leader === undefined) this.leaders.set(node, (leader = new LeaderWaits(node, this.wire, this.closing.signal)));
    const waits = leader;

    return new Promise<FetchedPartition | null>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout;
      const finish = (): boolean => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        waits.remove(waiter);
        return true;
      };
      const waiter: Waiter = {
        topic,
        partition,
        offset,
        maxBytes,
        deadline,
        highWatermark: known.highWatermark,
        logStartOffset: known.logStartOffset,
        settle: (result) => {
          if (finish()) resolve(result);
        },
        fail: (error) => {
          if (finish()) reject(error);
        },
      };
      const onAbort = (): void => waiter.fail(signal!.reason);
      // Timers may fire a little before Date.now() reaches the deadline, which the caller checks: re-armed then.
      const onTimer = (): void => {
        const left = deadline - Date.now();
        if (left > 0) timer = setTimeout(onTimer, left);
        else waiter.settle({ highWatermark: waiter.highWatermark, logStartOffset: waiter.logStartOffset, batches: [] });
      };
      timer = setTimeout(onTimer, Math.max(0, deadline - Date.now()));
      signal?.addEventListener("abort", onAbort, { once: true });
      waits.add(waiter);
    });
  }

  /** Ends every wait: the reads reject with `Closed`. */
  close(): void {
    this.closing.abort();
    for (const waits of this.leaders.values()) waits.endAll(closed());
  }
}
