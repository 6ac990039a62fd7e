/**
 * Produce (v3) and Fetch (v5) requests for one partition, in the shape kafkajs's connections
 * send (`{ request: { apiKey, apiVersion, encode }, response: { decode, parse } }`), carrying
 * record batches encoded by record-batch.ts. Both versions are supported by Kafka 0.11 to 4.x.
 * https://kafka.apache.org/protocol#The_Messages_Produce
 */
import { createKafkaError, type ProtocolRequest } from "./internals.ts";
import { decodeRecordBatches, type DecodedBatch } from "./record-batch.ts";

const PRODUCE = 0;
const FETCH = 1;
/** Kafka's error code for success. */
const NONE = 0;

/** Writes big-endian protocol fields into a buffer of known size. */
class Writer {
  readonly buf: Buffer;
  private pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  int8(n: number): this {
    this.pos = this.buf.writeInt8(n, this.pos);
    return this;
  }
  int16(n: number): this {
    this.pos = this.buf.writeInt16BE(n, this.pos);
    return this;
  }
  int32(n: number): this {
    this.pos = this.buf.writeInt32BE(n, this.pos);
    return this;
  }
  int64(n: number): this {
    this.pos = this.buf.writeBigInt64BE(BigInt(n), this.pos);
    return this;
  }
  string(s: Buffer): this {
    this.int16(s.length);
    this.buf.set(s, this.pos);
    this.pos += s.length;
    return this;
  }
  bytes(b: Buffer): this {
    this.int32(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
}

/** Reads big-endian protocol fields. */
class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  int16(): number {
    const n = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return n;
  }
  int32(): number {
    const n = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return n;
  }
  int64(): number {
    const n = Number(this.buf.readBigInt64BE(this.pos));
    this.pos += 8;
    return n;
  }
  string(): string {
    const length = this.int16();
    const s = this.buf.toString("utf8", this.pos, this.pos + length);
    this.pos += length;
    return s;
  }
  /** Nullable bytes, as a view of the response. */
  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) return Buffer.alloc(0);
    const b = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return b;
  }
  skip(n: number): void {
    this.pos += n;
  }
}

/** The one partition's entry of a single-topic, single-partition response. */
function onlyPartition(reader: Reader): void {
  const topics = reader.int32();
  reader.string();
  const partitions = reader.int32();
  if (topics !== 1 || partitions !== 1) throw new Error(`expected one topic and partition in the response, got ${topics} and ${partitions}`);
  reader.int32(); // partition
}

export function produceRequest(
  topic: string,
  partition: number,
  batch: Buffer,
  acks: number,
  timeoutMs: number,
  onEncode: () => void,
): ProtocolRequest<{ baseOffset: number }, { errorCode: number; baseOffset: number }> {
  const name = Buffer.from(topic);
  return {
    request: {
      apiKey: PRODUCE,
      apiVersion: 3,
      apiName: "Produce",
      expectResponse: () => acks !== 0,
      // kafkajs encodes a request right before queueing it on the connection.
      encode: async () => {
        onEncode();
        const w = new Writer(2 + 2 + 4 + 4 + 2 + name.length + 4 + 4 + 4 + batch.length);
        w.int16(-1).int16(acks).int32(timeoutMs); // no transactional id
        w.int32(1).string(name).int32(1).int32(partition).bytes(batch);
        return { buf: w.buf, buffer: w.buf };
      },
    },
    response: {
      decode: async (payload: Buffer) => {
        const reader = new Reader(payload);
        onlyPartition(reader);
        return { errorCode: reader.int16(), baseOffset: reader.int64(), clientSideThrottleTime: 0 };
      },
      parse: async ({ errorCode, baseOffset }) => {
        if (errorCode !== NONE) throw createKafkaError(errorCode);
        return { baseOffset };
      },
    },
  };
}

export interface FetchedPartition {
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** Decoded as iterated; iterate once. */
  readonly batches: Iterable<DecodedBatch>;
}

/** A Fetch (v5) of one partition; its error, if any, is thrown as kafkajs would. */
export function fetchRequest(
  topic: string,
  partition: number,
  offset: number,
  maxBytes: number,
  maxWaitMs: number,
  isolationLevel: number,
): ProtocolRequest<FetchedPartition, FetchedTarget[]> {
  const fetch = multiFetchRequest([{ topic, partition, offset, maxBytes }], maxBytes, maxWaitMs, isolationLevel);
  return {
    ...fetch,
    response: {
      decode: fetch.response.decode,
      parse: async ([only]) => {
        if (only === undefined) throw new Error(`Fetch of ${topic}[${partition}]: the broker answered for no partition`);
        if (only.errorCode !== NONE) throw createKafkaError(only.errorCode);
        return { highWatermark: only.highWatermark, logStartOffset: only.logStartOffset, batches: decodeRecordBatches(only.records) };
      },
    },
  };
}

/** One partition of a multi-partition Fetch: where to read from and at most how much. */
export interface FetchTarget {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly maxBytes: number;
}

/** One partition's answer to a multi-partition Fetch; errors are left to the caller. */
export interface FetchedTarget {
  readonly topic: string;
  readonly partition: number;
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** The raw record set (possibly ending in a partial batch): see `decodeRecordBatches`. */
  readonly records: Buffer;
}

/**
 * A Fetch (v5) of many partitions at once: the broker answers as soon as any of them has a byte
 * (min bytes 1), or after `maxWaitMs`. Partitions are listed in the order given (the broker fills
 * the response in that order, up to `maxBytes`); each must appear once.
 */
export function multiFetchRequest(
  targets: readonly FetchTarget[],
  maxBytes: number,
  maxWaitMs: number,
  isolationLevel: number,
): ProtocolRequest<FetchedTarget[], FetchedTarget[]> {
  // Consecutive targets of one topic share its entry (a topic may appear twice if split up).
  const topics: { name: Buffer; targets: FetchTarget[] }[] = [];
  for (const target of targets) {
    const last = topics.at(-1);
    if (last !== undefined && last.targets[0]!.topic === target.topic) last.targets.push(target);
    else topics.push({ name: Buffer.from(target.topic), targets: [target] });
  }
  return {
    request: {
      apiKey: FETCH,
      apiVersion: 5,
      apiName: "Fetch",
      encode: async () => {
        let size = 4 + 4 + 4 + 4 + 1 + 4;
        for (const t of topics) size += 2 + t.name.length + 4 + t.targets.length * (4 + 8 + 8 + 4);
        const w = new Writer(size);
        w.int32(-1).int32(maxWaitMs).int32(1).int32(maxBytes).int8(isolationLevel).int32(topics.length);
        for (const t of topics) {
          w.string(t.name).int32(t.targets.length);
          for (const { partition, offset, maxBytes } of t.targets) w.int32(partition).int64(offset).int64(-1).int32(maxBytes);
        }
        return { buf: w.buf, buffer: w.buf };
      },
    },
    response: {
      decode: async (payload: Buffer) => {
        const reader = new Reader(payload);
        reader.int32(); // throttle time
        const fetched: FetchedTarget[] = [];
        for (let topics = reader.int32(); topics > 0; topics--) {
          const topic = reader.string();
          for (let partitions = reader.int32(); partitions > 0; partitions--) {
            const partition = reader.int32();
            const errorCode = reader.int16();
            const highWatermark = reader.int64();
            reader.int64(); // last stable offset
            const logStartOffset = reader.int64();
            const aborted = reader.int32();
            if (aborted > 0) reader.skip(aborted * 16);
            fetched.push({ topic, partition, errorCode, highWatermark, logStartOffset, records: reader.bytes() });
          }
        }
        return fetched;
      },
      parse: async (fetched) => fetched,
    },
    requestTimeout: maxWaitMs + 10_000,
  };
}
