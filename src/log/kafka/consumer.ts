/**
 * The pull-style `GroupConsumer` over kafkajs's push-style consumer: kafkajs runs the group
 * protocol, fetches and heartbeats in the background and hands batches to `eachBatch`, which
 * queues them (bounded) for `poll`. Offsets are only committed by `commit`.
 */
import type { Consumer, ConsumerGroupJoinEvent, EachBatchPayload, Kafka } from "kafkajs";
import { LogError } from "../errors.ts";
import type {
  ConsumerOptions,
  GroupConsumer,
  LogRecord,
  PolledBatch,
  PollOptions,
  TopicPartition,
  TopicPartitionOffset,
} from "../types.ts";
import { checkConsumerOptions, checkOffset } from "../validate.ts";
import { ChunkAssembler } from "./chunking.ts";
import { errorType, translate } from "./failures.ts";
import type { RawRecord } from "./internals.ts";
import { committedOffsets, partitionOffsets } from "./offsets.ts";
import { decodeRecord, payloadBytes } from "./records.ts";
import type { Wire } from "./wire.ts";

const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
const DEFAULT_POLL_RECORDS = 10_000;
/** eachBatch stops taking batches while this much is queued and not yet polled. */
const MAX_QUEUED_RECORDS = 50_000;
const MAX_QUEUED_BYTES = 32 * 1024 * 1024;
/** How long kafkajs's background fetches wait for data; also bounds how fast `close` returns. */
const FETCH_WAIT_MS = 200;
const JOIN_TIMEOUT_MS = 60_000;
const REBALANCE_ERRORS: ReadonlySet<string> = new Set(["REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID"]);

interface QueuedBatch {
  readonly topic: string;
  readonly partition: number;
  /** Records not yet polled, in offset order. */
  records: LogRecord[];
  readonly highWatermark: number;
  /** The partition's position once all of the batch has been polled. */
  readonly endOffset: number;
  bytes: number;
}

const keyOf = (topic: string, partition: number): string => `${topic}\0${partition}`;

/** For partitions without a committed offset, where a `from: "latest"` member starts: their end. */
type EndOffsets = (partitions: readonly TopicPartition[]) => Promise<readonly TopicPartitionOffset[]>;

class KafkaGroupConsumer implements GroupConsumer {
  private member = "";
  private assigned: readonly TopicPartition[] = [];
  private joins = 0;
  private closed = false;
  private failure: unknown = null;
  /** Settles when the starting positions of the latest assignment are fixed. */
  private settling: Promise<void> = Promise.resolve();

  private queue: QueuedBatch[] = [];
  private queuedRecords = 0;
  private queuedBytes = 0;
  /** Wakes `poll` (new data) and `eachBatch` (free space); both re-check their condition. */
  private wakers = new Set<() => void>();

  /** Per partition: where poll has got to, and which of those positions are not committed yet. */
  private readonly positions = new Map<string, TopicPartitionOffset>();
  private readonly uncommitted = new Map<string, TopicPartitionOffset>();
  private readonly assemblers = new Map<string, ChunkAssembler>();

  constructor(
    readonly group: string,
    private readonly topics: ReadonlySet<string>,
    private readonly consumer: Consumer,
    private readonly heartbeatIntervalMs: number,
    private readonly endOffsets: EndOffsets | null,
    private readonly onClose: () => void,
  ) {
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.onJoin(event));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(payload.error);
    });
  }

  get memberId(): string {
    return this.member;
  }

  /** Resolves once kafkajs has joined the group for the first time and positions are fixed. */
  async joined(): Promise<void> {
    const deadline = Date.now() + JOIN_TIMEOUT_MS;
    while (this.joins === 0) {
      if (this.failure !== null) throw translate(this.failure);
      if (Date.now() > deadline) throw new LogError("BrokerUnreachable", `consumer of group ${this.group} could not join within ${JOIN_TIMEOUT_MS} ms`);
      await this.sleepUntilWoken(100);
    }
    await this.settling;
    this.checkUsable();
  }

  async assignment(): Promise<readonly TopicPartition[]> {
    this.checkUsable();
    await this.settling;
    this.checkUsable();
    return this.assigned;
  }

  async poll(options: PollOptions = {}): Promise<readonly PolledBatch[]> {
    this.checkUsable();
    const maxRecords = options.maxRecords ?? DEFAULT_POLL_RECORDS;
    const waitMs = options.waitMs ?? 0;
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) {
      throw new LogError("InvalidArgument", `poll maxRecords must be a positive integer, got ${maxRecords}`);
    }
    if (!Number.isSafeInteger(waitMs) || waitMs < 0) {
      throw new LogError("InvalidArgument", `poll waitMs must be a non-negative integer, got ${waitMs}`);
    }
    options.signal?.throwIfAborted();
    const deadline = Date.now() + waitMs;
    while (this.queue.length === 0 && Date.now() < deadline) {
      await this.sleepUntilWoken(deadline - Date.now(), options.signal);
      this.checkUsable();
    }
    return this.take(maxRecords);
  }

  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    this.checkUsable();
    if (offsets !== undefined) {
      if (!Array.isArray(offsets)) throw new LogError("InvalidArgument", "commit offsets must be an array");
      for (const o of offsets) checkOffset(o.topic, o.partition, o.offset);
    }
    const joinsBefore = this.joins;
    try {
      await this.commitOwned(offsets);
    } catch (error) {
      if (!REBALANCE_ERRORS.has(errorType(error) ?? "")) throw translate(error);
      // A rebalance is under way: commit again, for the partitions still ours, once it is over.
      await this.rejoinedSince(joinsBefore);
      await this.commitOwned(offsets);
    }
  }

  seek(position: TopicPartitionOffset): void {
    this.checkUsable();
    const { topic, partition, offset } = position;
    checkOffset(topic, partition, offset);
    this.checkOwned(topic, partition);
    const key = keyOf(topic, partition);
    this.dropQueued((b) => b.topic === topic && b.partition === partition);
    this.assemblers.delete(key);
    this.positions.set(key, { topic, partition, offset });
    this.consumer.seek({ topic, partition, offset: String(offset) });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    this.onClose();
    await this.consumer.disconnect();
  }

  /** kafkajs's eachBatch: decode, reassemble chunks and queue, waiting (and heartbeating) while the queue is full. */
  async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    while (this.queuedRecords >= MAX_QUEUED_RECORDS || this.queuedBytes >= MAX_QUEUED_BYTES) {
      if (this.closed || !isRunning() || isStale()) return;
      await this.sleepUntilWoken(this.heartbeatIntervalMs);
      await heartbeat();
    }
    if (this.closed || !isRunning() || isStale()) return;
    const { topic, partition } = batch;
    const key = keyOf(topic, partition);
    let assembler = this.assemblers.get(key);
    if (assembler === undefined) this.assemblers.set(key, (assembler = new ChunkAssembler()));
    const records: LogRecord[] = [];
    let bytes = 0;
    for (const message of batch.messages) {
      const decoded = decodeRecord(message as unknown as RawRecord);
      const record = decoded && assembler.push(decoded);
      if (record) {
        records.push(record);
        bytes += payloadBytes(record);
      }
    }
    const lastOffset = batch.lastOffset();
    resolveOffset(lastOffset);
    if (records.length === 0) return;
    const endOffset = assembler.pendingFrom ?? Number(lastOffset) + 1;
    this.queue.push({ topic, partition, records, highWatermark: Number(batch.highWatermark), endOffset, bytes });
    this.queuedRecords += records.length;
    this.queuedBytes += bytes;
    this.wake();
  }

  private take(maxRecords: number): PolledBatch[] {
    const polled = new Map<string, { topic: string; partition: number; records: LogRecord[]; highWatermark: number }>();
    let remaining = maxRecords;
    while (remaining > 0 && this.queue.length > 0) {
      const batch = this.queue[0]!;
      const records = batch.records.splice(0, remaining);
      const bytes = records.reduce((sum, r) => sum + payloadBytes(r), 0);
      remaining -= records.length;
      this.queuedRecords -= records.length;
      this.queuedBytes -= bytes;
      batch.bytes -= bytes;
      if (batch.records.length === 0) this.queue.shift();
      const { topic, partition } = batch;
      const key = keyOf(topic, partition);
      const offset = batch.records.length === 0 ? batch.endOffset : records[records.length - 1]!.offset + 1;
      this.positions.set(key, { topic, partition, offset });
      this.uncommitted.set(key, { topic, partition, offset });
      const out = polled.get(key);
      if (out === undefined) polled.set(key, { topic, partition, records, highWatermark: batch.highWatermark });
      else out.records.push(...records);
    }
    this.wake();
    return [...polled.values()];
  }

  private async commitOwned(offsets: readonly TopicPartitionOffset[] | undefined): Promise<void> {
    const entries = offsets ?? [...this.uncommitted.values()];
    for (const { topic, partition } of entries) this.checkOwned(topic, partition);
    if (entries.length === 0) return;
    await this.consumer.commitOffsets(entries.map(({ topic, partition, offset }) => ({ topic, partition, offset: String(offset) })));
    // kafkajs skips the commit silently when its consumer has stopped.
    this.checkUsable();
    for (const entry of entries) {
      const key = keyOf(entry.topic, entry.partition);
      if (this.uncommitted.get(key)?.offset === entry.offset) this.uncommitted.delete(key);
    }
  }

  private onJoin({ payload }: ConsumerGroupJoinEvent): void {
    const assigned: TopicPartition[] = [];
    for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
      for (const partition of partitions) assigned.push({ topic, partition });
    }
    assigned.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
    const owned = new Set(assigned.map((tp) => keyOf(tp.topic, tp.partition)));
    // kafkajs restarts every partition from its committed offset after a rebalance: drop what it
    // fetched before, and move partitions we keep to where poll had got to.
    this.dropQueued(() => true);
    this.assemblers.clear();
    for (const key of this.positions.keys()) {
      if (!owned.has(key)) {
        this.positions.delete(key);
        this.uncommitted.delete(key);
      }
    }
    for (const { topic, partition, offset } of this.positions.values()) {
      this.consumer.seek({ topic, partition, offset: String(offset) });
    }
    this.member = payload.memberId;
    this.assigned = assigned;
    this.joins++;
    const fresh = assigned.filter((tp) => !this.positions.has(keyOf(tp.topic, tp.partition)));
    if (this.endOffsets !== null && fresh.length > 0) this.settling = this.startAtEnd(fresh, this.joins);
    this.wake();
  }

  /**
   * kafkajs looks up "latest" lazily, at its first fetch of a partition, so records written
   * between the assignment and that fetch would be skipped. Fix the start when assigned instead.
   */
  private async startAtEnd(partitions: readonly TopicPartition[], joins: number): Promise<void> {
    try {
      const ends = await this.endOffsets!(partitions);
      if (this.joins !== joins) return;
      for (const { topic, partition, offset } of ends) {
        const key = keyOf(topic, partition);
        if (this.positions.has(key)) continue; // poll already returned records from there
        this.dropQueued((b) => b.topic === topic && b.partition === partition);
        this.assemblers.delete(key);
        this.positions.set(key, { topic, partition, offset });
        this.consumer.seek({ topic, partition, offset: String(offset) });
      }
    } catch (error) {
      this.fail(error);
    }
  }

  private async rejoinedSince(joins: number): Promise<void> {
    const deadline = Date.now() + JOIN_TIMEOUT_MS;
    while (this.joins === joins) {
      this.checkUsable();
      if (Date.now() > deadline) throw new LogError("NotAssigned", `group ${this.group} did not finish rebalancing within ${JOIN_TIMEOUT_MS} ms`);
      await this.sleepUntilWoken(deadline - Date.now());
    }
  }

  private dropQueued(matches: (batch: QueuedBatch) => boolean): void {
    this.queue = this.queue.filter((batch) => {
      if (!matches(batch)) return true;
      this.queuedRecords -= batch.records.length;
      this.queuedBytes -= batch.bytes;
      return false;
    });
    this.wake();
  }

  private checkOwned(topic: string, partition: number): void {
    if (!this.topics.has(topic) || !this.assigned.some((tp) => tp.topic === topic && tp.partition === partition)) {
      throw new LogError("NotAssigned", `${topic}[${partition}] is not assigned to member ${this.member} of group ${this.group}`);
    }
  }

  private checkUsable(): void {
    if (this.closed) throw new LogError("Closed", `consumer of group ${this.group} is closed`);
    if (this.failure !== null) throw translate(this.failure);
  }

  private fail(error: unknown): void {
    this.failure = error;
    this.wake();
  }

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = new Set();
    for (const wake of wakers) wake();
  }

  /** Sleeps until `wake()`, the timeout or the signal; rejects only when the signal aborts. */
  private sleepUntilWoken(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.wakers.delete(done);
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal!.reason);
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.wakers.add(done);
    });
  }
}

/** The end offsets of those `partitions` that have no committed offset in `group`. */
async function uncommittedEnds(wire: Wire, group: string, partitions: readonly TopicPartition[]): Promise<TopicPartitionOffset[]> {
  const topics = [...new Set(partitions.map((tp) => tp.topic))];
  const committed = new Set(
    (await Promise.all(topics.map((topic) => committedOffsets(wire, group, topic)))).flat().map((c) => keyOf(c.topic, c.partition)),
  );
  const uncommitted = partitions.filter((tp) => !committed.has(keyOf(tp.topic, tp.partition)));
  return Promise.all(
    uncommitted.map(async ({ topic, partition }) => ({
      topic,
      partition,
      offset: (await partitionOffsets(wire, topic, partition)).highWatermark,
    })),
  );
}

/** Joins `options.group` and resolves once this member has its first assignment. */
export async function openGroupConsumer(
  kafka: Kafka,
  wire: Wire,
  options: ConsumerOptions,
  onClose: (consumer: GroupConsumer) => void,
): Promise<GroupConsumer> {
  checkConsumerOptions(options);
  await Promise.all(options.topics.map((topic) => wire.topic(topic)));
  const sessionTimeout = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const heartbeatIntervalMs = Math.max(100, Math.min(1000, Math.floor(sessionTimeout / 3)));
  const consumer = kafka.consumer({
    groupId: options.group,
    sessionTimeout,
    heartbeatInterval: heartbeatIntervalMs,
    maxWaitTimeInMs: FETCH_WAIT_MS,
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    allowAutoTopicCreation: false,
    readUncommitted: true,
  });
  const member: KafkaGroupConsumer = new KafkaGroupConsumer(
    options.group,
    new Set(options.topics),
    consumer,
    heartbeatIntervalMs,
    options.from === "latest" ? (partitions) => uncommittedEnds(wire, options.group, partitions) : null,
    () => onClose(member),
  );
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.from !== "latest" });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => member.onBatch(payload) });
    await member.joined();
  } catch (error) {
    await member.close().catch(() => {});
    if (errorType(error) === "INVALID_SESSION_TIMEOUT") {
      throw new LogError(
        "InvalidArgument",
        `sessionTimeoutMs ${sessionTimeout} is outside the broker's group.min/max.session.timeout.ms`,
        { cause: error },
      );
    }
    throw translate(error);
  }
  return member;
}
