import { LogError } from "../errors.ts";
import type { PartitionOffsets, TopicPartitionOffset } from "../types.ts";
import { checkGroup, checkTopicName } from "../validate.ts";
import { errorType, translate } from "./failures.ts";
import { EARLIEST, LATEST, READ_UNCOMMITTED } from "./internals.ts";
import { retrying, type Wire } from "./wire.ts";

async function listOffset(wire: Wire, topic: string, partition: number, timestamp: number): Promise<number> {
  const { responses } = await wire.onLeader(topic, partition, (broker) =>
    broker.listOffsets({ isolationLevel: READ_UNCOMMITTED, topics: [{ topic, partitions: [{ partition, timestamp }] }] }),
  );
  return Number(responses[0]!.partitions[0]!.offset);
}

export async function partitionOffsets(wire: Wire, topic: string, partition: number): Promise<PartitionOffsets> {
  const [logStartOffset, highWatermark] = await Promise.all([
    listOffset(wire, topic, partition, EARLIEST),
    listOffset(wire, topic, partition, LATEST),
  ]);
  return { partition, logStartOffset, highWatermark };
}

export async function topicOffsets(wire: Wire, topic: string): Promise<readonly PartitionOffsets[]> {
  checkTopicName(topic);
  const { partitions } = await wire.topic(topic);
  return Promise.all(Array.from({ length: partitions }, (_, partition) => partitionOffsets(wire, topic, partition)));
}

const COORDINATOR_MOVING: ReadonlySet<string> = new Set([
  "GROUP_LOAD_IN_PROGRESS",
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR_FOR_GROUP",
]);

/** The group's committed offsets for the topic's partitions that have one. */
export async function committedOffsets(wire: Wire, group: string, topic: string): Promise<readonly TopicPartitionOffset[]> {
  checkGroup(group);
  checkTopicName(topic);
  const { partitions } = await wire.topic(topic);
  try {
    const { responses } = await retrying(
      async () =>
        (await wire.coordinator(group)).offsetFetch({
          groupId: group,
          topics: [{ topic, partitions: Array.from({ length: partitions }, (_, partition) => ({ partition })) }],
        }),
      (error) => COORDINATOR_MOVING.has(errorType(error) ?? ""),
    );
    return responses
      .flatMap((r) => r.partitions.map((p) => ({ topic: r.topic, partition: p.partition, offset: Number(p.offset) })))
      .filter((p) => p.offset >= 0)
      .sort((a, b) => a.partition - b.partition);
  } catch (error) {
    throw translate(error, topic);
  }
}
