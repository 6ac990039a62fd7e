import type { Bytes } from "./types.ts";

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`, seed 0x9747b28c). Both backends partition
 * keys with it, so a key lands in the same partition on the embedded store, on Kafka through
 * carls, and through any Java or librdkafka client set to the murmur2 partitioner.
 */
export function murmur2(data: Bytes): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a key, as Kafka's default partitioner computes it. */
export const partitionForKey = (key: Bytes, partitions: number): number => (murmur2(key) & 0x7fffffff) % partitions;

/** Picks partitions for records: by key hash, by explicit partition, or round-robin for null keys. */
export class Partitioner {
  private next = 0;
  partition(key: Bytes | null, explicit: number | undefined, partitions: number): number {
    if (explicit !== undefined) return explicit;
    if (key !== null) return partitionForKey(key, partitions);
    const p = this.next % partitions;
    this.next = (this.next + 1) % 1_000_000_007;
    return p;
  }
}
