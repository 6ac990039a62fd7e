/**
 * Writes versions into a bank: each one first to the append-only history, then, carrying its
 * history offset, to the compacted bank topic. Keys go to the same partition in both topics.
 */
import { partitionForKey } from "../log/partitioner.ts";
import { readPartition } from "../log/read-all.ts";
import type { Log, ProduceRecord } from "../log/types.ts";
import { encodeNeighbourList, type NeighbourList } from "../schema/neighbour-list.ts";
import { denseVector, encodedVectorBytes, encodeVectorInto } from "../schema/vector.ts";
import { decodeEnvelope, ENVELOPE_BYTES, setHistoryOffset, writeEnvelope, type PayloadKind } from "./codec.ts";
import { bankTopics, ensureBankTopics, type BankTopics } from "./topics.ts";
import { firstNonFinite } from "./finite.ts";

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

  /** Upserts dense float32 vectors produced by checkpoint `step` (-1 when none); every value must be finite. */
  async upsertVectors(entries: readonly VectorUpsert[], step: number): Promise<void> {
    this.checkStep(step);
    for (const { key, values } of entries) {
      if (!(values instanceof Float32Array)) throw new Error(`bank ${this.topics.bank}: the values of key ${JSON.stringify(key)} must be a Float32Array`);
      const at = firstNonFinite(values);
      if (at >= 0) throw new Error(`bank ${this.topics.bank}: key ${JSON.stringify(key)} has ${values[at]} at ${at}; a bank holds finite values only`);
    }
    const vectors = entries.map(({ values }) => denseVector(values, step));
    return this.write(this.versions(entries.map((e) => e.key), "vector", vectors.map(encodedVectorBytes), (i, target, offset) => encodeVectorInto(vectors[i]!, target, offset)));
  }

  /** Upserts neighbour lists found from embeddings of checkpoint `step`. */
  async upsertNeighbours(entries: readonly NeighbourUpsert[], step: number): Promise<void> {
    this.checkStep(step);
    const lists = entries.map(({ neighbours }) => encodeNeighbourList({ ...neighbours, step }));
    return this.write(this.versions(entries.map((e) => e.key), "neighbours", lists.map((l) => l.byteLength), (i, target, offset) => target.set(lists[i]!, offset)));
  }

  /** A checkpoint step, or -1 for values from no checkpoint. */
  private checkStep(step: number): void {
    if (!(Number.isSafeInteger(step) && step >= -1)) throw new Error(`bank ${this.topics.bank}: step must be a checkpoint step (an integer ≥ 0) or -1, got ${step}`);
  }

  async delete(keys: readonly string[]): Promise<void> {
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

  /**
   * Completes a write cut short between its two produces (a crash after the history copy, before
   * the bank copy): the history versions of `partition` past the newest one the bank holds are
   * written to the bank, carrying their history offsets. Without this a replay through the history
   * would apply versions no reader of the bank ever saw. Call it only as the partition's one writer,
   * before writing to it (the maker runtime does when it takes a partition over). Returns how many
   * versions it completed.
   */
  async rollForward(partition: number): Promise<number> {
    const mirrored = await this.newestMirrored(partition);
    const records: Version[] = [];
    for await (const record of readPartition(this.log, this.topics.history, partition, mirrored + 1)) {
      if (!record.key || !record.value) continue;
      const value = record.value.slice();
      setHistoryOffset(new DataView(value.buffer), 0, record.offset);
      records.push({ key: record.key, value, partition });
    }
    for (const chunk of this.chunks(records)) await this.log.produce(this.topics.bank, chunk);
    return records.length;
  }

  /** The history offset of the newest version in the bank's `partition`, -1 when it holds none. */
  private async newestMirrored(partition: number): Promise<number> {
    const bank = (await this.log.offsets(this.topics.bank)).find((o) => o.partition === partition);
    if (!bank) return -1;
    // Backwards in windows: the newest record is at the end, unless something else (a compaction marker) is.
    for (let end = bank.highWatermark; end > bank.logStartOffset; ) {
      const start = Math.max(bank.logStartOffset, end - 256);
      let newest = -1;
      for await (const record of readPartition(this.log, this.topics.bank, partition, start, end)) {
        try {
          newest = Math.max(newest, decodeEnvelope(record.value).historyOffset);
        } catch {
          // Not a bank record (a dead letter's cause): it says nothing about the history.
        }
      }
      if (newest >= 0) return newest;
      end = start;
    }
    return -1;
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
