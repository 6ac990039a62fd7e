/**
 * Where a maker's owner of a node partition had read the graph's edges when it last finished: a
 * new owner (after a crash or a rebalance) recomputes the keys that edges written since then touch.
 * Node changes need no such record: they come through the group's committed offsets.
 */
import type { Log } from "../log/types.ts";
import { readPartition } from "../log/read-all.ts";

export const progressTopic = (namespace: string): string => `${namespace}.makers.progress`;

export interface PartitionProgress {
  /** Next offset of each partition of `<namespace>.graph.edges`. */
  readonly edges: readonly number[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class MakerProgress {
  private constructor(
    private readonly log: Log,
    private readonly topic: string,
    private readonly maker: string,
  ) {}

  static async open(log: Log, namespace: string, maker: string): Promise<MakerProgress> {
    const topic = progressTopic(namespace);
    await log.createTopic(topic, { partitions: 1, compacted: true });
    return new MakerProgress(log, topic, maker);
  }

  /** The latest progress of each node partition this maker has recorded. */
  async read(): Promise<Map<number, PartitionProgress>> {
    const prefix = `${this.maker}/`;
    const out = new Map<number, PartitionProgress>();
    for await (const record of readPartition(this.log, this.topic, 0)) {
      const key = record.key ? dec.decode(record.key) : "";
      if (!key.startsWith(prefix) || record.value === null) continue;
      out.set(Number(key.slice(prefix.length)), JSON.parse(dec.decode(record.value)) as PartitionProgress);
    }
    return out;
  }

  async write(partitions: Iterable<number>, progress: PartitionProgress): Promise<void> {
    const value = enc.encode(JSON.stringify(progress));
    const records = [...partitions].map((p) => ({ key: enc.encode(`${this.maker}/${p}`), value, partition: 0 }));
    if (records.length > 0) await this.log.produce(this.topic, records);
  }
}
