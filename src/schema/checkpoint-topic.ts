/**
 * `<namespace>.model.checkpoints`: the trainer publishes checkpoints there in chunks, makers follow
 * it and load the newest complete one. One partition, never compacted: replay needs them all.
 */
import { readPartition } from "../log/read-all.ts";
import type { Log } from "../log/types.ts";
import { chunkCheckpoint, decodeCheckpoint, decodeChunk, encodeCheckpoint, type Checkpoint } from "./checkpoint.ts";
import { ensureDeadLetterTopic, sendToDeadLetters, type DeadLetter } from "./dead-letter.ts";

export const checkpointTopic = (namespace: string): string => `${namespace}.model.checkpoints`;

const CHUNK_BYTES = 256 * 1024;
const enc = new TextEncoder();

export async function ensureCheckpointTopic(log: Log, namespace: string): Promise<string> {
  const topic = checkpointTopic(namespace);
  await log.createTopic(topic, { partitions: 1, compacted: false, retentionMs: null });
  await ensureDeadLetterTopic(log, topic);
  return topic;
}

/** Publishes a checkpoint as one produce of its chunks, so they land contiguously. Returns the first chunk's offset. */
export function publishCheckpoint(log: Log, namespace: string, checkpoint: Checkpoint): Promise<number> {
  return publishChunked(log, checkpointTopic(namespace), checkpoint);
}

/** Publishes a checkpoint-format record to partition 0 of `topic` as one produce of its chunks. */
export async function publishChunked(log: Log, topic: string, checkpoint: Checkpoint): Promise<number> {
  const key = enc.encode(String(checkpoint.step));
  const chunks = chunkCheckpoint(checkpoint.step, encodeCheckpoint(checkpoint), CHUNK_BYTES);
  const [result] = await log.produce(topic, chunks.map((value) => ({ key, value, partition: 0 })));
  return result!.baseOffset;
}

/** Follows the checkpoint topic and keeps the newest complete checkpoint. */
export class CheckpointFollower {
  private offset = 0;
  private newest: Checkpoint | undefined;
  private readonly assembler = new CheckpointAssembler();

  private constructor(
    private readonly log: Log,
    readonly topic: string,
  ) {}

  static async open(log: Log, namespace: string): Promise<CheckpointFollower> {
    const follower = new CheckpointFollower(log, await ensureCheckpointTopic(log, namespace));
    await follower.poll(0);
    return follower;
  }

  /** The newest complete checkpoint read so far. */
  latest(): Checkpoint | undefined {
    return this.newest;
  }

  /** The next offset to read: every checkpoint before it has been seen. */
  get position(): number {
    return this.offset;
  }

  /** Reads what has arrived, waiting up to `waitMs` for something new; true when a newer checkpoint completed. */
  async poll(waitMs: number, signal?: AbortSignal): Promise<boolean> {
    const before = this.newest?.step;
    for (;;) {
      const result = await this.log.read(this.topic, 0, this.offset, { waitMs, signal, maxRecords: 64 });
      const letters: DeadLetter[] = [];
      for (const record of result.records) {
        const reason = this.add(record.value);
        if (reason) letters.push({ topic: this.topic, partition: 0, record, reason });
      }
      await sendToDeadLetters(this.log, letters);
      this.offset = Math.max(this.offset, result.nextOffset);
      if (this.offset >= result.highWatermark || signal?.aborted) break;
      waitMs = 0;
    }
    return this.newest !== undefined && this.newest.step !== before;
  }

  private add(value: Uint8Array | null): string | undefined {
    const { checkpoint, reason } = this.assembler.add(value);
    if (checkpoint && (!this.newest || checkpoint.step > this.newest.step)) this.newest = checkpoint;
    return reason;
  }
}

/** Puts checkpoints back together from their chunks, in topic order. */
export class CheckpointAssembler {
  private pending: { step: number; parts: Uint8Array[] } | undefined;

  /** A whole checkpoint when this chunk completes one; a reason when the record is not a usable chunk. */
  add(value: Uint8Array | null): { checkpoint?: Checkpoint; reason?: string } {
    let chunk: ReturnType<typeof decodeChunk>;
    try {
      chunk = decodeChunk(value);
    } catch (error) {
      return { reason: (error as Error).message };
    }
    if (chunk.chunk === 0) this.pending = { step: chunk.step, parts: [] };
    if (!this.pending || this.pending.step !== chunk.step || this.pending.parts.length !== chunk.chunk) {
      this.pending = undefined;
      return { reason: `checkpoint chunk ${chunk.chunk} of step ${chunk.step} arrived out of order` };
    }
    this.pending.parts.push(chunk.bytes.slice());
    if (this.pending.parts.length < chunk.chunks) return {};
    const parts = this.pending.parts;
    this.pending = undefined;
    const whole = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    parts.reduce((at, p) => (whole.set(p, at), at + p.byteLength), 0);
    try {
      return { checkpoint: decodeCheckpoint(whole) };
    } catch (error) {
      return { reason: (error as Error).message };
    }
  }
}

/** The whole checkpoints in offsets [from, to) of the checkpoint topic, in order. */
export function readCheckpoints(log: Log, namespace: string, from: number, to: number): AsyncGenerator<Checkpoint> {
  return readChunked(log, checkpointTopic(namespace), from, to);
}

/** The whole checkpoint-format records in offsets [from, to) of partition 0 of `topic`, in order. */
export async function* readChunked(log: Log, topic: string, from: number, to: number): AsyncGenerator<Checkpoint> {
  const assembler = new CheckpointAssembler();
  for await (const record of readPartition(log, topic, 0, from, to)) {
    const { checkpoint } = assembler.add(record.value);
    if (checkpoint) yield checkpoint;
  }
}
