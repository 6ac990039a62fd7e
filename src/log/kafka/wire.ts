import { setTimeout as sleep } from "node:timers/promises";
import { LoadingCache } from "./cache.ts";
import type { Broker, Cluster } from "./internals.ts";
import { closed, errorType, isStaleMetadata, translate, unknownTopic } from "./failures.ts";
import { LongPolls } from "./long-poll.ts";

export interface TopicMetadata {
  readonly partitions: number;
  /** Leader node id per partition. */
  readonly leaders: readonly number[];
}

const ATTEMPTS = 7;

/** Retries `run` with exponential backoff (about 3 s in all) while `retriable` says so. */
export async function retrying<T>(
  run: () => Promise<T>,
  retriable: (error: unknown) => boolean,
  beforeRetry: (error: unknown) => void = () => {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt + 1 >= ATTEMPTS || !retriable(error)) throw error;
      beforeRetry(error);
      await sleep(50 * 2 ** attempt);
    }
  }
}

/**
 * Requests to partition leaders and group coordinators over one kafkajs Cluster, with our own
 * per-topic metadata cache. (kafkajs's cache refreshes all "target topics" at once and fails
 * for good once one of them is deleted, so it is not used for topics.)
 *
 * kafkajs keeps two connections per broker: Fetch requests go over one, everything else over the
 * other. Fetches that wait for data go over a third, of a second Cluster made on first use (see
 * long-poll.ts), since a broker answers each connection's requests in order.
 */
export class Wire {
  private readonly metadata = new LoadingCache((topic) => this.loadTopic(topic));
  /** The waiting reads, merged per leader. */
  readonly longPolls = new LongPolls(this);
  private waitCluster: Promise<Cluster> | null = null;
  private closed = false;

  /** `newCluster` makes the Cluster whose connections carry the waiting fetches. */
  constructor(
    private readonly cluster: Cluster,
    private readonly newCluster: () => Cluster,
  ) {}

  async close(): Promise<void> {
    this.closed = true;
    this.longPolls.close();
    this.metadata.clear();
    const waitCluster = this.waitCluster;
    this.waitCluster = null;
    await Promise.allSettled([this.cluster.disconnect(), waitCluster?.then((c) => c.disconnect())]);
  }

  /**
   * A broker (by node id) of the Cluster for waiting fetches: its Fetch connection carries
   * nothing else, so that no other request queues behind a fetch held by the broker.
   */
  async waitingBroker(nodeId: number): Promise<Broker> {
    if (this.closed) throw closed();
    if (this.waitCluster === null) {
      const connecting = (async () => {
        const cluster = this.newCluster();
        try {
          await cluster.connect();
          await cluster.refreshMetadata();
          return cluster;
        } catch (error) {
          await cluster.disconnect().catch(() => {});
          throw error;
        }
      })();
      this.waitCluster = connecting;
      connecting.catch(() => {
        if (this.waitCluster === connecting) this.waitCluster = null;
      });
    }
    const cluster = await this.waitCluster;
    if (this.closed) throw closed(); // closing meanwhile: do not reconnect it
    return cluster.findBroker({ nodeId });
  }

  /** All topics, with whether Kafka marks them internal. */
  async listTopics(): Promise<readonly { name: string; internal: boolean }[]> {
    const response = await retrying(
      async () => (await this.anyBroker()).metadata([]),
      (e) => errorType(e) === "LEADER_NOT_AVAILABLE" || isStaleMetadata(e),
    );
    return response.topicMetadata.map((t) => ({ name: t.topic, internal: t.isInternal }));
  }

  /** Partition count and leaders of a topic (cached); `UnknownTopic` if it does not exist. */
  topic(name: string): Promise<TopicMetadata> {
    return this.metadata.get(name);
  }

  forget(topic: string): void {
    this.metadata.delete(topic);
  }

  /** Runs `request` on the leader of a partition, following leader moves. */
  onLeader<T>(topic: string, partition: number, request: (broker: Broker) => Promise<T>): Promise<T> {
    return this.withTranslation(topic, () =>
      retrying(
        async () => {
          const { leaders } = await this.topic(topic);
          return request(await this.broker(leaders[partition]!));
        },
        isStaleMetadata,
        () => this.forget(topic),
      ),
    );
  }

  async coordinator(group: string): Promise<Broker> {
    if (this.closed) throw closed();
    return this.open(await this.cluster.findGroupCoordinator({ groupId: group }));
  }

  private async withTranslation<T>(topic: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw translate(error, topic);
    }
  }

  private loadTopic(name: string): Promise<TopicMetadata> {
    return this.withTranslation(name, async () => {
      const response = await retrying(
        async () => (await this.anyBroker()).metadata([name]),
        (e) => errorType(e) === "LEADER_NOT_AVAILABLE" || (errorType(e) === undefined && isStaleMetadata(e)),
      );
      const topic = response.topicMetadata.find((t) => t.topic === name);
      if (topic === undefined) throw unknownTopic(name);
      const leaders: number[] = [];
      for (const p of topic.partitionMetadata) leaders[p.partitionId] = p.leader;
      return { partitions: topic.partitionMetadata.length, leaders };
    });
  }

  /**
   * A broker of the main Cluster. Refused once closed: kafkajs connects a broker again on its next
   * request, so a retry still waiting out its backoff when the log closed would open a connection
   * that nothing closes (it kept a replica's process alive after a read of a deleted topic).
   */
  private async broker(nodeId: number): Promise<Broker> {
    if (this.closed) throw closed();
    return this.open(await this.cluster.findBroker({ nodeId }));
  }

  /** `broker`, unless the log closed while it was being found (and maybe connected): then closed again. */
  private async open(broker: Broker): Promise<Broker> {
    if (!this.closed) return broker;
    await broker.disconnect().catch(() => {});
    throw closed();
  }

  private async anyBroker(): Promise<Broker> {
    if (this.closed) throw closed();
    let nodes = this.cluster.getNodeIds();
    if (nodes.length === 0) {
      await this.cluster.refreshMetadata();
      nodes = this.cluster.getNodeIds();
    }
    const node = nodes[Math.floor(Math.random() * nodes.length)];
    return this.broker(Number(node));
  }
}
