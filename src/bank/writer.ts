/**
 * Writes versions into a bank: each one first to the append-only history, then, carrying its
 * history offset, to the compacted bank topic. Keys go to the same partition in both topics.
 */
import { partitionForKey } from "../log/partitioner.ts";
import type { Log, ProduceRecord } from "../log/types.ts";
import { encodeNeighbourList, type NeighbourList } from "../schema/neighbour-list.ts";
import { denseVector, encodedVectorBytes, encodeVectorInto } from "../schema/vector.ts";
import { ENVELOPE_BYTES, setHistoryOffset, writeEnvelope, type PayloadKind } from "./codec.ts";
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
    const vectors = entries.map(({ values }) => denseVector(values, step));
    return this.write(this.versions(entries.map((e) => e.key), "vector", vectors.map(encodedVectorBytes), (i, target, offset) => encodeVectorInto(vectors[i]!, target, offset)));
  }

  /** Upserts neighbour lists found from embeddings of checkpoint `step`. */
  upsertNeighbours(entries: readonly NeighbourUpsert[], step: number): Promise<void> {
    const lists = entries.map(({ neighbours }) => encodeNeighbourList({ ...neighbours, step }));
    return this.write(this.versions(entries.map((e) => e.key), "neighbours", lists.map((l) => l.byteLength), (i, target, offset) => target.set(lists[i]!, offset)));
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.write(this.versions(keys, "deleted", keys.map(() => 0), () => {}));
  }

  /** The versions of `keys`, their values (envelope, then payload) laid out in one buffer. */
  private versions(keys: readonly string[], kind: PayloadKind, payloadBytes: readonly number[], writePayload: (i: number, target: Uint8Array, offset: number) => void): Version[] {
    let total = 0;
    for (const bytes of payloadBytes) total += ENVELOPE_BYTES + bytes;
    const values = new Uint8Array(total);
    const view = new DataView(values.buffer);
    let offset = 0;
    return keys.map((key, i) => {
      if (typeof key !== "string" || key.length === 0) throw new Error(`bank ${this.topics.bank}: keys must be non-empty strings, got ${JSON.stringify(key)}`);
      const keyBytes = enc.encode(key);
      writeEnvelope(view, offset, kind, -1);
      writePayload(i, values, offset + ENVELOPE_BYTES);
      const value = values.subarray(offset, (offset += ENVELOPE_BYTES + payloadBytes[i]!));
      return { key: keyBytes, partition: partitionForKey(keyBytes, this.partitions), value };
    });
  }

  private async write(versions: readonly Version[]): Promise<void> {
    for (const chunk of this.chunks(versions)) {
      const results = await this.log.produce(this.topics.history, chunk.map(({ key, partition, value }): ProduceRecord => ({ key, value, partition })));
      const next = new Map(results.map(({ partition, baseOffset }) => [partition, baseOffset]));
      // The history copies keep -1; the bank copies, in one buffer, say where their history copy landed.
      const copies = new Uint8Array(chunk.reduce((sum, { value }) => sum + value.byteLength, 0));
      const view = new DataView(copies.buffer);
      let offset = 0;
      const bankRecords = chunk.map(({ key, partition, value }): ProduceRecord => {
        const historyOffset = next.get(partition)!;
        next.set(partition, historyOffset + 1);
        copies.set(value, offset);
        setHistoryOffset(view, offset, historyOffset);
        return { key, value: copies.subarray(offset, (offset += value.byteLength)), partition };
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
