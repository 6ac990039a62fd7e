import type { LogRecord } from "../types.ts";
import { batchFirstOffset, batchMaxTimestamp, decodeBatch, encodeKept } from "./batch-codec.ts";
import type { BatchKey, PartitionState, Store, TopicMeta } from "./store.ts";

/** Kafka's default `min.cleanable.dirty.ratio`, plus a floor so tiny partitions are left alone. */
const MIN_DIRTY_RATIO = 0.5;
const MIN_DIRTY_RECORDS = 1_000;

export function needsCompaction(state: PartitionState): boolean {
  const dirty = state.hw - state.cleaned;
  const total = state.hw - state.logStart;
  return dirty >= MIN_DIRTY_RECORDS && dirty / total >= MIN_DIRTY_RATIO;
}

const keyString = (key: Uint8Array | null): string => (key === null ? "" : Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1"));

/**
 * Keeps the latest record per key, and drops tombstones older than `deleteRetentionMs`, as Kafka's
 * log cleaner does. Offsets are preserved (gaps appear); the high watermark does not move. Runs in
 * one write transaction, so readers in any process see the partition before or after, never between.
 */
export async function compactPartition(
  store: Store,
  topic: string,
  meta: TopicMeta,
  partition: number,
  now: number,
): Promise<{ removed: number; kept: number }> {
  const { batches, partitions } = store;
  const where = `${topic}[${partition}]`;
  const tombstoneHorizon = now - meta.config.deleteRetentionMs;
  let removed = 0;
  let kept = 0;
  await store.root.transaction(() => {
    const state = partitions.get([meta.id, partition]);
    if (!state) return;
    const range = { start: [meta.id, partition, 0] as BatchKey, end: [meta.id, partition, Number.MAX_SAFE_INTEGER] as BatchKey };
    const latest = new Map<string, number>();
    const keys: BatchKey[] = [];
    for (const { key, value } of batches.getRange(range)) {
      keys.push(key);
      const records: LogRecord[] = [];
      decodeBatch(value, 0, records, Infinity, Infinity, where);
      for (const r of records) latest.set(keyString(r.key), r.offset);
    }
    for (const key of keys) {
      const records: LogRecord[] = [];
      decodeBatch(batches.get(key)!, 0, records, Infinity, Infinity, where);
      const keep = records.filter(
        (r) => latest.get(keyString(r.key)) === r.offset && !(r.value === null && r.timestamp < tombstoneHorizon),
      );
      kept += keep.length;
      if (keep.length === records.length) continue;
      removed += records.length - keep.length;
      batches.removeSync(key);
      if (keep.length > 0) batches.putSync([meta.id, partition, keep[keep.length - 1]!.offset], Buffer.from(encodeKept(keep)));
    }
    partitions.putSync([meta.id, partition], { ...state, cleaned: state.hw });
  });
  return { removed, kept };
}

/** Deletes whole batches whose newest record is older than `horizon`, moving the log start forward. */
export async function applyRetention(store: Store, meta: TopicMeta, partition: number, horizon: number): Promise<void> {
  const { batches, partitions } = store;
  const range = { start: [meta.id, partition, 0] as BatchKey, end: [meta.id, partition, Number.MAX_SAFE_INTEGER] as BatchKey };
  let expired = false;
  for (const first of batches.getRange({ ...range, limit: 1 })) expired = batchMaxTimestamp(first.value) < horizon;
  if (!expired) return;
  await store.root.transaction(() => {
    const state = partitions.get([meta.id, partition]);
    if (!state) return;
    let logStart = state.hw;
    for (const { key, value } of batches.getRange(range)) {
      if (batchMaxTimestamp(value) >= horizon) {
        logStart = batchFirstOffset(value);
        break;
      }
      batches.removeSync(key);
    }
    partitions.putSync([meta.id, partition], { ...state, logStart, cleaned: Math.max(state.cleaned, logStart) });
  });
}
