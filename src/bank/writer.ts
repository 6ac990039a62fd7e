/**
 * Writes versions into a bank: each one first to the append-only history, then, carrying its
 * history offset, to the compacted bank topic. Keys go to the same partition in both topics.
 */
import { partitionForKey } from "../log/partitioner.ts";
import type { Log, ProduceRecord } from "../log/types.ts";
import { encodeNeighbourList, type NeighbourList } from "../schema/neighbour-list.ts";
import { denseVector, encodeVector } from "../schema/vector.ts";
import { encodeEnvelope, setHistoryOffset, type PayloadKind } from "./codec.ts";
import { bankTopics, ensureBankTopics, type BankTopics } from "./topics.ts";

export interface VectorUpsert {
  readonly key: string;
  readonly values: Float32Array;
}

export interface NeighbourUpsert {
  readonly key: string;
  readonly neighbours: Omit<NeighbourList, "step">;
}

export interface BankWriterOptions {
  /** Partitions of a new bank (default 4); an existing bank keeps its own. */
  readonly partitions?: number;
  /**
   * Bytes of values per produce call (default 512 KiB). Kept under the broker's message size so
   * that each partition's share lands as one contiguous batch, which the history offsets rely on.
   */
  readonly maxBatchBytes?: number;
}

interface Version {
  readonly key: Uint8Array;
  readonly partition: number;
  readonly value: Uint8Array;
}

const enc = new TextEncoder();

export class BankWriter {
  private constructor(
    private readonly log: Log,
    readonly topics: BankTopics,
    readonly partitions: number,
    private readonly maxBatchBytes: number,
  ) {}

  static async open(log: Log, namespace: string, name: string, options: BankWriterOptions = {}): Promise<BankWriter> {
    const topics = bankTopics(namespace, name);
    const partitions = await ensureBankTopics(log, topics, options.partitions);
    return new BankWriter(log, topics, partitions, options.maxBatchBytes ?? 512 * 1024);
  }

  /** Upserts dense float32 vectors produced by checkpoint `step` (-1 when none). */
  upsertVectors(entries: readonly VectorUpsert[], step: number): Promise<void> {
    return this.write(entries.map(({ key, values }) => this.version(key, "vector", encodeVector(denseVector(values, step)))));
  }

  /** Upserts neighbour lists found from embeddings of checkpoint `step`. */
  upsertNeighbours(entries: readonly NeighbourUpsert[], step: number): Promise<void> {
    return this.write(entries.map(({ key, neighbours }) => this.version(key, "neighbours", encodeNeighbourList({ ...neighbours, step }))));
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.write(keys.map((key) => this.version(key, "deleted")));
  }

  private version(key: string, kind: PayloadKind, payload?: Uint8Array): Version {
    if (typeof key !== "string" || key.length === 0) throw new Error(`bank ${this.topics.bank}: keys must be non-empty strings, got ${JSON.stringify(key)}`);
    const keyBytes = enc.encode(key);
    return { key: keyBytes, partition: partitionForKey(keyBytes, this.partitions), value: encodeEnvelope(kind, -1, payload) };
  }

  private async write(versions: readonly Version[]): Promise<void> {
    for (const chunk of this.chunks(versions)) {
      const records = chunk.map(({ key, partition, value }): ProduceRecord => ({ key, value, partition }));
      const results = await this.log.produce(this.topics.history, records);
      const next = new Map(results.map(({ partition, baseOffset }) => [partition, baseOffset]));
      // The history copies keep -1; the bank copies say where their history copy landed.
      const bankRecords = chunk.map(({ key, partition, value }): ProduceRecord => {
        const historyOffset = next.get(partition)!;
        next.set(partition, historyOffset + 1);
        const copy = value.slice();
        setHistoryOffset(copy, historyOffset);
        return { key, value: copy, partition };
      });
      await this.log.produce(this.topics.bank, bankRecords);
    }
  }

  private *chunks(versions: readonly Version[]): Generator<readonly Version[]> {
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < versions.length; i++) {
      const size = versions[i]!.key.byteLength + versions[i]!.value.byteLength;
      if (i > start && bytes + size > this.maxBatchBytes) {
        yield versions.slice(start, i);
        [start, bytes] = [i, 0];
      }
      bytes += size;
    }
    if (start < versions.length) yield versions.slice(start);
  }
}
