/** What a knowledge maker is: the part a user writes. The runtime (runtime.ts) does the rest. */
import type { NeighbourUpsert, VectorUpsert } from "../bank/writer.ts";
import type { BankView } from "../bank/view.ts";
import type { Log } from "../log/types.ts";
import type { GraphStore } from "../../graph/store/graph-store.ts";

/** What one computation produced for the keys it was given. */
export interface MakerOutput {
  readonly vectors?: readonly VectorUpsert[];
  readonly neighbours?: readonly NeighbourUpsert[];
  /** Keys that should no longer hold a value (e.g. a node no longer confident enough for a pseudo-label). */
  readonly deletes?: readonly string[];
}

/** What the runtime hands a maker when it starts. */
export interface MakerContext {
  readonly log: Log;
  readonly namespace: string;
  /** The whole graph, followed live (a maker owns some keys but may read any node). */
  readonly graph: GraphStore;
  /** The maker's own output bank, as materialised here. */
  readonly output: BankView;
}

export interface Maker {
  /** Names the maker's consumer group, `<namespace>.makers.<name>`. */
  readonly name: string;
  /** The bank it writes, `<namespace>.kb.<bank>`. */
  readonly bank: string;
  readonly outputKind: "vector" | "neighbours";
  /** A graph change makes the keys within this many hops stale; null when graph changes do not matter. */
  readonly hops: number | null;
  start(context: MakerContext): Promise<void>;
  /**
   * The checkpoint step the output should reach now, or undefined when there is nothing to make
   * yet (no checkpoint, or its input bank not complete). A key is stale when its value is older.
   */
  target(): number | undefined;
  /** Waits up to `waitMs` for its inputs to change (a new checkpoint, an input bank advancing). */
  poll(waitMs: number, signal: AbortSignal): Promise<void>;
  /** Whether the maker makes a value for this node at all (default: every live node). */
  covers?(key: string): boolean;
  compute(keys: readonly string[], step: number): Promise<MakerOutput>;
  close(): Promise<void>;
}
