/**
 * Applies the versions of a vector bank to a VectorStore straight from a read's buffer: vector
 * headers are checked in place, keys indexed as bytes, values copied once into storage. The store
 * is made on the first vector when the dim was not known beforehand.
 */
import { denseFloat32Layout, denseVector, encodeVector } from "../schema/vector.ts";
import type { BankApplier } from "./follower.ts";
import type { VersionCursor } from "./version-cursor.ts";
import { VectorStore, type StoreRows } from "./vector-store.ts";

/** Told of every row a version changes (e.g. a nearest-neighbour index). */
export interface RowListener {
  rowChanged(row: number): void;
  rowRemoved(row: number): void;
}

// A dense float32 header as schema/vector.ts writes it: magic, version, flags, dtype; then dim u32
// at 8 and step f64 at 16. Checked against denseFloat32Layout below, so a format change fails loudly.
const HEADER = encodeVector(denseVector(new Float32Array(0)));
const [H0, H1, H2, H3, H4] = HEADER;
const DIM_AT = 8;
const STEP_AT = 16;
const VALUES_AT = denseFloat32Layout(HEADER).valuesAt;

export class VectorApplier implements BankApplier {
  store: VectorStore | undefined;
  private reserved = 0;
  // The layout of the last vector parsed.
  private dim = 0;
  private step = 0;
  private valuesAt = 0;

  constructor(dim: number | undefined, private readonly listener?: RowListener) {
    if (dim !== undefined) this.store = new VectorStore(dim);
  }

  reserve(versions: number): void {
    if (this.store) this.store.reserve(versions);
    else this.reserved = versions;
  }

  applyVersion(version: VersionCursor): string | undefined {
    if (version.kind === "deleted") {
      const row = this.store?.deleteKeyBytes(version.keyData, version.keyStart, version.keyLength, version.keyHash) ?? -1;
      if (row >= 0) this.listener?.rowRemoved(row);
      return undefined;
    }
    if (version.kind !== "vector") return `a vector bank cannot hold a ${version.kind} record`;
    const problem = this.parse(version);
    if (problem !== undefined) return problem;
    const store = (this.store ??= new VectorStore(this.dim, this.reserved || undefined));
    if (this.dim !== store.dim) return `vector of dim ${this.dim} in a bank of dim ${store.dim}`;
    const row = store.setFromKeyBytes(version.keyData, version.keyStart, version.keyLength, version.keyHash, version.valueData, version.payloadStart + this.valuesAt, this.step);
    // Checked where the row landed, aligned, rather than in the read's buffer: a bad value is rare,
    // and the check then costs a word a value. Its key reads as missing until a finite value comes.
    const bad = store.firstNonFiniteOfRow(row);
    if (bad >= 0) {
      store.deleteKeyBytes(version.keyData, version.keyStart, version.keyLength, version.keyHash);
      this.listener?.rowRemoved(row);
      return `vector value ${bad} is NaN or infinite; a bank holds finite values only (the key reads as missing until a finite value comes)`;
    }
    this.listener?.rowChanged(row);
    return undefined;
  }

  /**
   * Storage for a snapshot of `rows` × `dim` to be read into (rows 0 .. rows - 1) before `restore`;
   * makes the store if there is none yet.
   */
  storageFor(dim: number, rows: number): Float32Array {
    const store = (this.store ??= new VectorStore(dim, rows));
    if (store.dim !== dim) throw new Error(`a snapshot of dim ${dim} cannot go into a bank of dim ${store.dim}`);
    store.reserve(rows);
    return store.storage;
  }

  /** Takes a snapshot's rows into an empty store (made with their dim if there is none yet). */
  restore(rows: StoreRows): void {
    const store = (this.store ??= new VectorStore(rows.dim, rows.count));
    store.restore(rows);
    for (let row = 0; row < rows.count; row++) this.listener?.rowChanged(row);
  }

  private parse(version: VersionCursor): string | undefined {
    const { valueData: data, valueView: view, payloadStart: at, payloadLength: length } = version;
    if (length >= VALUES_AT && data[at] === H0 && data[at + 1] === H1 && data[at + 2] === H2 && data[at + 3] === H3 && data[at + 4] === H4) {
      this.dim = view.getUint32(at + DIM_AT, true);
      if (length === VALUES_AT + this.dim * 4) {
        this.step = view.getFloat64(at + STEP_AT, true);
        this.valuesAt = VALUES_AT;
        return undefined;
      }
    }
    // Off the fast path, schema/vector.ts decides and words the reason.
    try {
      ({ dim: this.dim, step: this.step, valuesAt: this.valuesAt } = denseFloat32Layout(version.payload()));
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }
}

checkHeaderLayout();

function checkHeaderLayout(): void {
  const probe = encodeVector(denseVector(Float32Array.of(1, 2, 3), 7));
  const view = new DataView(probe.buffer);
  if (view.getUint32(DIM_AT, true) !== 3 || view.getFloat64(STEP_AT, true) !== 7 || denseFloat32Layout(probe).valuesAt !== VALUES_AT) {
    throw new Error("vector-applier.ts: the dense vector header of schema/vector.ts has changed");
  }
}
