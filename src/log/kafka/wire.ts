import { setTimeout as sleep } from "node:timers/promises";
import { LoadingCache } from "./cache.ts";
import type { Broker, Cluster } from "./internals.ts";
import { errorType, isStaleMetadata, translate, unknownTopic } from "./failures.ts";

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
 */
export class Wire {
  private readonly metadata = new LoadingCache((topic) => this.loadTopic(topic));

  constructor(private readonly cluster: Cluster) {}

  async close(): Promise<void> {
    this.metadata.clear();
    await this.cluster.disconnect();
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
          return request(await this.cluster.findBroker({ nodeId: leaders[partition]! }));
        },
        isStaleMetadata,
        () => this.forget(topic),
      ),
    );
  }

  coordinator(group: string): Promise<Broker> {
    return this.cluster.findGroupCoordinator({ groupId: group });
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

  private async anyBroker(): Promise<Broker> {
    let nodes = this.cluster.getNodeIds();
    if (nodes.length === 0) {
      await this.cluster.refreshMetadata();
      nodes = this.cluster.getNodeIds();
    }
    const node = nodes[Math.floor(Math.random() * nodes.length)];
    return this.cluster.findBroker({ nodeId: Number(node) });
  }
}
