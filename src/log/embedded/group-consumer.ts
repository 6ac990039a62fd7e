import { randomUUID } from "node:crypto";
import { LogError } from "../errors.ts";
import type {
  ConsumerOptions,
  GroupConsumer,
  PollOptions,
  PolledBatch,
  TopicPartition,
  TopicPartitionOffset,
} from "../types.ts";
import { checkOffset } from "../validate.ts";
import type { EmbeddedLog } from "./embedded-log.ts";
import type { TopicMeta } from "./store.ts";

interface Member {
  readonly topics: readonly string[];
  readonly expiresAt: number;
}

interface Lease {
  readonly member: string;
  readonly expiresAt: number;
}

interface Owned extends TopicPartition {
  readonly meta: TopicMeta;
  /** Next offset to hand out. */
  position: number;
  /** Position at the last commit, so `commit()` writes only what moved. */
  committed: number;
}

const DEFAULT_MAX_POLL_RECORDS = 10_000;
const memberKey = (group: string, id: string) => ["m", group, id];
const leaseKey = (group: string, topic: string, partition: number) => ["l", group, topic, partition];
const offsetKey = (group: string, topic: string, partition: number) => ["o", group, topic, partition];
const tp = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * A consumer group member on the embedded store, safe across processes on one host.
 *
 * Members register with a heartbeat in LMDB. Each one computes the same assignment from the live
 * members (partition p of a topic goes to member p mod n, in id order), then takes a lease on its
 * partitions. A lease is only granted when free, expired or already held, so a partition never has
 * two owners: a newcomer waits until the previous owner lets go in its next `poll`, or its
 * session expires. Commits are fenced by the lease, like Kafka's generation check.
 */
export class EmbeddedGroupConsumer implements GroupConsumer {
  readonly memberId = randomUUID();
  readonly group: string;
  private readonly owned = new Map<string, Owned>();
  private readonly sessionTimeoutMs: number;
  private readonly heartbeatMs: number;
  private nextRebalance = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private rotation = 0;

  private constructor(
    private readonly log: EmbeddedLog,
    private readonly options: ConsumerOptions,
    private readonly topics: readonly { name: string; meta: TopicMeta }[],
    private readonly onClose: () => void,
  ) {
    this.group = options.group;
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 10_000;
    this.heartbeatMs = Math.max(50, Math.min(1_000, Math.floor(this.sessionTimeoutMs / 3)));
  }

  static async join(
    log: EmbeddedLog,
    options: ConsumerOptions,
    topics: readonly { name: string; meta: TopicMeta }[],
    onClose: () => void,
  ): Promise<EmbeddedGroupConsumer> {
    const consumer = new EmbeddedGroupConsumer(log, options, topics, onClose);
    await consumer.heartbeat("rebalance");
    consumer.timer = setInterval(() => void consumer.heartbeat("renew").catch(() => undefined), consumer.heartbeatMs);
    consumer.timer.unref();
    return consumer;
  }

  async assignment(): Promise<readonly TopicPartition[]> {
    this.checkOpen();
    return [...this.owned.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  async poll(options: PollOptions = {}): Promise<readonly PolledBatch[]> {
    this.checkOpen();
    const deadline = Date.now() + (options.waitMs ?? 0);
    const maxRecords = options.maxRecords ?? DEFAULT_MAX_POLL_RECORDS;
    for (;;) {
      if (Date.now() >= this.nextRebalance) await this.heartbeat("rebalance");
      const batches = this.pollNow(maxRecords);
      if (batches.length > 0 || Date.now() >= deadline || options.signal?.aborted || this.closed) return batches;
      await this.log.waitForChange(Math.min(deadline, this.nextRebalance), options.signal);
    }
  }

  /** Reads owned partitions in turn, starting one further each poll so none starves. */
  private pollNow(maxRecords: number): PolledBatch[] {
    const owned = [...this.owned.values()];
    const batches: PolledBatch[] = [];
    let budget = maxRecords;
    for (let i = 0; i < owned.length && budget > 0; i++) {
      const o = owned[(this.rotation + i) % owned.length]!;
      const result = this.log.readNow(o.topic, o.meta, o.partition, o.position, budget, 16 * 1024 * 1024);
      o.position = result.nextOffset;
      if (result.records.length === 0) continue;
      budget -= result.records.length;
      batches.push({ topic: o.topic, partition: o.partition, records: result.records, highWatermark: result.highWatermark });
    }
    this.rotation++;
    return batches;
  }

  async commit(offsets?: readonly TopicPartitionOffset[]): Promise<void> {
    this.checkOpen();
    const toCommit =
      offsets ?? [...this.owned.values()].filter((o) => o.position !== o.committed).map(({ topic, partition, position }) => ({ topic, partition, offset: position }));
    if (toCommit.length === 0) return;
    for (const { topic, partition, offset } of toCommit) checkOffset(topic, partition, offset);
    const { groups } = this.log.store;
    const now = Date.now();
    await this.log.store.root.transaction(() => {
      for (const { topic, partition, offset } of toCommit) {
        const lease = groups.get(leaseKey(this.group, topic, partition)) as Lease | undefined;
        if (lease?.member !== this.memberId || lease.expiresAt < now) {
          throw new LogError("NotAssigned", `member ${this.memberId} of group ${this.group} does not own ${topic}[${partition}], so it cannot commit it`);
        }
        groups.putSync(offsetKey(this.group, topic, partition), offset);
      }
    });
    for (const { topic, partition, offset } of toCommit) {
      const o = this.owned.get(tp(topic, partition));
      if (o) o.committed = offset;
    }
  }

  seek(position: TopicPartitionOffset): void {
    this.checkOpen();
    checkOffset(position.topic, position.partition, position.offset);
    const o = this.owned.get(tp(position.topic, position.partition));
    if (!o) throw new LogError("NotAssigned", `member ${this.memberId} of group ${this.group} does not own ${position.topic}[${position.partition}]`);
    o.position = position.offset;
  }

  /**
   * Renews membership and the leases this member holds. With `rebalance` (only from `poll`, the
   * application's safe point, as Kafka revokes partitions only inside poll) it also takes and
   * releases partitions as the assignment says. Releasing from the background timer would hand a
   * partition over while records polled from it are still being processed and not yet committed,
   * and the new owner would process them again.
   */
  private async heartbeat(mode: "renew" | "rebalance"): Promise<void> {
    if (this.closed) return;
    const { groups } = this.log.store;
    const now = Date.now();
    const expiresAt = now + this.sessionTimeoutMs;
    const gained: Owned[] = [];
    const lost: string[] = [];
    await this.log.store.root.transaction(() => {
      groups.putSync(memberKey(this.group, this.memberId), { topics: this.options.topics, expiresAt } satisfies Member);
      const members = this.liveMembers(now);
      for (const { name, meta } of this.topics) {
        const subscribers = members.filter((m) => m.topics.includes(name)).map((m) => m.id);
        const mine = subscribers.indexOf(this.memberId);
        for (let p = 0; p < meta.config.partitions; p++) {
          const key = leaseKey(this.group, name, p);
          const lease = groups.get(key) as Lease | undefined;
          const held = lease?.member === this.memberId;
          if (mode === "renew") {
            if (held) groups.putSync(key, { member: this.memberId, expiresAt } satisfies Lease);
            else if (this.owned.has(tp(name, p))) lost.push(tp(name, p));
            continue;
          }
          if (p % subscribers.length !== mine) {
            if (held) {
              groups.removeSync(key);
              lost.push(tp(name, p));
            }
            continue;
          }
          if (!held && lease && lease.expiresAt >= now) {
            // Someone else holds it; if we thought it ours, our session lapsed and it was taken over.
            if (this.owned.has(tp(name, p))) lost.push(tp(name, p));
            continue;
          }
          groups.putSync(key, { member: this.memberId, expiresAt } satisfies Lease);
          if (!this.owned.has(tp(name, p))) {
            const start = this.startOffset(name, meta, p);
            gained.push({ topic: name, partition: p, meta, position: start, committed: start });
          }
        }
      }
    });
    for (const key of lost) this.owned.delete(key);
    for (const o of gained) this.owned.set(tp(o.topic, o.partition), o);
    if (mode === "rebalance") this.nextRebalance = now + this.heartbeatMs;
  }

  private liveMembers(now: number): { id: string; topics: readonly string[] }[] {
    const { groups } = this.log.store;
    const live: { id: string; topics: readonly string[] }[] = [];
    for (const { key, value } of groups.getRange({ start: ["m", this.group], end: ["m", this.group, "\uffff"] })) {
      const member = value as Member;
      const id = key[2] as string;
      if (member.expiresAt < now) groups.removeSync(key);
      else live.push({ id, topics: member.topics });
    }
    return live.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  private startOffset(topic: string, meta: TopicMeta, partition: number): number {
    const committed = this.log.store.groups.get(offsetKey(this.group, topic, partition)) as number | undefined;
    if (committed !== undefined) return committed;
    const state = this.log.partitionState(topic, meta, partition);
    return this.options.from === "latest" ? state.hw : state.logStart;
  }

  private checkOpen(): void {
    if (this.closed) throw new LogError("Closed", `consumer ${this.memberId} of group ${this.group} is closed`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const { groups } = this.log.store;
    await this.log.store.root.transaction(() => {
      groups.removeSync(memberKey(this.group, this.memberId));
      for (const o of this.owned.values()) {
        const key = leaseKey(this.group, o.topic, o.partition);
        if ((groups.get(key) as Lease | undefined)?.member === this.memberId) groups.removeSync(key);
      }
    });
    this.owned.clear();
    this.onClose();
    this.log.notifier.changed();
  }
}
