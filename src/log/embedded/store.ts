import { closeSync, existsSync, mkdirSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { open, type Database, type RootDatabase } from "lmdb";
import { LogError } from "../errors.ts";
import type { TopicConfig } from "../types.ts";

/** Bumped whenever the on-disk layout changes; a store of another version is refused, not guessed at. */
export const STORE_FORMAT_VERSION = 1;
const FORMAT_KEY = "carls.log.format";

export interface TopicMeta {
  readonly id: number;
  readonly config: Required<TopicConfig>;
}

export interface PartitionState {
  /** First offset still stored. */
  readonly logStart: number;
  /** One past the last offset written. */
  readonly hw: number;
  /** Compaction has cleaned everything below this offset. */
  readonly cleaned: number;
}

export type PartitionKey = [topicId: number, partition: number];
/** Batches are keyed by the offset of their last record, so a seek to offset o lands on the batch holding o. */
export type BatchKey = [topicId: number, partition: number, lastOffset: number];
export type GroupKey = (string | number)[];

/**
 * The LMDB environment of one embedded log directory and its sub-databases. LMDB gives atomic,
 * crash-safe transactions across processes (one writer at a time, readers never blocked).
 */
export interface Store {
  readonly dir: string;
  readonly root: RootDatabase;
  readonly meta: Database<unknown, string>;
  readonly topics: Database<TopicMeta, string>;
  readonly partitions: Database<PartitionState, PartitionKey>;
  readonly batches: Database<Buffer, BatchKey>;
  readonly groups: Database<unknown, GroupKey>;
}

/**
 * The memory map's size, which bounds the store's size. Fixed and large (address space, not disk:
 * the file grows as data does), because lmdb-js otherwise starts small and grows the map by
 * remapping it, and a remap while another thread holds a zero-copy view into the old map (our
 * reads use `getBinaryFast`; lmdb-js commits on its own thread) crashed a process with SIGSEGV.
 */
const MAP_BYTES = 256 * 2 ** 30;

export async function openStore(dir: string): Promise<Store> {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (cause) {
    throw new LogError("InvalidArgument", `cannot create the store directory ${dir}: ${(cause as Error).message}`, { cause });
  }
  const file = join(dir, "log.mdb");
  checkLmdbHeader(file);
  let root: RootDatabase;
  try {
    root = open({ path: file, maxDbs: 8, compression: false, mapSize: MAP_BYTES });
  } catch (cause) {
    throw new LogError("StoreCorrupt", `cannot open the embedded store in ${dir}: ${(cause as Error).message}`, { cause });
  }
  const store: Store = {
    dir,
    root,
    meta: root.openDB({ name: "meta" }),
    topics: root.openDB({ name: "topics" }),
    partitions: root.openDB({ name: "partitions" }),
    batches: root.openDB({ name: "batches", encoding: "binary" }),
    groups: root.openDB({ name: "groups" }),
  };
  await checkFormat(store);
  return store;
}

/**
 * LMDB trusts its file and crashes the process on a damaged one, so check the magic number of the
 * first meta page (as laid out by lmdb-js's LMDB build) before opening it.
 */
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_MAGIC_OFFSET = 24;
function checkLmdbHeader(file: string): void {
  if (!existsSync(file)) return;
  const header = Buffer.alloc(LMDB_MAGIC_OFFSET + 4);
  const fd = openSync(file, "r");
  try {
    const read = readSync(fd, header, 0, header.length, 0);
    if (read === 0) return;
    if (read < header.length || header.readUInt32LE(LMDB_MAGIC_OFFSET) !== LMDB_MAGIC) {
      throw new LogError("StoreCorrupt", `${file} is not an LMDB data file (bad magic number): the embedded store is corrupt or was overwritten`);
    }
  } finally {
    closeSync(fd);
  }
}

async function checkFormat(store: Store): Promise<void> {
  let found: unknown;
  try {
    found = store.meta.get(FORMAT_KEY);
    if (found === undefined) {
      await store.root.transaction(() => {
        found = store.meta.get(FORMAT_KEY);
        if (found === undefined && !store.topics.getKeysCount()) {
          store.meta.putSync(FORMAT_KEY, STORE_FORMAT_VERSION);
          found = STORE_FORMAT_VERSION;
        }
      });
    }
  } catch (cause) {
    await store.root.close();
    throw new LogError("StoreCorrupt", `the embedded store in ${store.dir} is unreadable: ${(cause as Error).message}`, { cause });
  }
  if (found !== STORE_FORMAT_VERSION) {
    await store.root.close();
    throw new LogError(
      "StoreVersionMismatch",
      `the embedded store in ${store.dir} has format version ${JSON.stringify(found ?? "none")}; this carls reads version ${STORE_FORMAT_VERSION}`,
    );
  }
}
