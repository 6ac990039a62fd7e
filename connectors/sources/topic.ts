/**
 * A user topic on any `Log` (Kafka or embedded), consumed as a consumer group: each JSON record is
 * mapped to a node or edge event by a field mapping. The group's committed offsets are the resume
 * point; they are committed only after the events they produced have been written.
 */
import type { GroupConsumer, Log, TopicPartitionOffset } from "../../src/log/types.ts";
import type { GraphSource, SourceEvent } from "../events.ts";
import { badRow } from "../events.ts";
import { mapRecord, parseJson, type FieldMapping } from "./json-records.ts";

export interface TopicSourceOptions {
  readonly log: Log;
  readonly topic: string;
  readonly group: string;
  /** One mapping for every record, or a function choosing one per parsed record (undefined: a bad row). */
  readonly mapping: FieldMapping | ((record: unknown) => FieldMapping | undefined);
  /** Keep consuming new records until aborted; by default stop once caught up with the topic. */
  readonly follow?: boolean;
  readonly pollRecords?: number;
}

const dec = new TextDecoder();

export function topicSource(options: TopicSourceOptions): GraphSource {
  const { log, topic, group } = options;
  let consumer: GroupConsumer | undefined;
  /** Next offset per partition, after the last record yielded. */
  const positions = new Map<number, number>();
  return {
    connector: `topic:${topic}`,
    resumes: "itself",
    fingerprint: async () => `${topic}#${group}`,
    events: (_from, signal) => topicEvents(signal),
    checkpoint() {
      const offsets: TopicPartitionOffset[] = [...positions].map(([partition, offset]) => ({ topic, partition, offset }));
      const owner = consumer;
      return async () => {
        if (owner && offsets.length > 0) await owner.commit(offsets);
      };
    },
    async close() {
      await consumer?.close();
      consumer = undefined;
    },
  };

  async function* topicEvents(signal?: AbortSignal): AsyncGenerator<SourceEvent> {
    consumer = await log.consumer({ group, topics: [topic], from: "earliest" });
    const committed = new Map((await log.committed(group, topic)).map((c) => [c.partition, c.offset]));
    for (let idlePolls = 0; !signal?.aborted; ) {
      const batches = await consumer.poll({ maxRecords: options.pollRecords ?? 5000, waitMs: options.follow ? 500 : 50, ...(signal ? { signal } : {}) });
      if (batches.every((b) => b.records.length === 0)) {
        if (!options.follow && (idlePolls++ >= 3 || (await caughtUp(committed)))) return;
        continue;
      }
      idlePolls = 0;
      for (const { partition, records } of batches) {
        for (const record of records) {
          const event = toEvent(partition, record.offset, record.value);
          positions.set(partition, record.offset + 1);
          yield event;
        }
      }
    }
  }

  async function caughtUp(committed: ReadonlyMap<number, number>): Promise<boolean> {
    const ends = await log.offsets(topic);
    return ends.every((p) => (positions.get(p.partition) ?? committed.get(p.partition) ?? p.logStartOffset) >= p.highWatermark);
  }

  function toEvent(partition: number, offset: number, value: Uint8Array | null): SourceEvent {
    const where = `${topic}[${partition}]@${offset}`;
    if (value === null) return badRow(where, "record has no value", "");
    const raw = dec.decode(value);
    const parsed = parseJson(raw, where);
    if (!parsed.ok) return parsed.bad;
    const mapping = typeof options.mapping === "function" ? options.mapping(parsed.value) : options.mapping;
    return mapping ? mapRecord(parsed.value, mapping, where, raw) : badRow(where, "no field mapping applies to this record", raw);
  }
}
