import type { GraphEvent } from "../src/schema/graph-records.ts";

/** A source row that could not be turned into a graph event; the writer dead-letters it. */
export interface BadRow {
  readonly kind: "bad";
  /** Where the row came from, e.g. `edges.csv:12` or `users[0]@41`. */
  readonly where: string;
  readonly reason: string;
  /** The row as read, kept in the dead letter. */
  readonly raw: string;
}

export type SourceEvent = GraphEvent | BadRow;

/**
 * A connector's input. Events come in a deterministic order, so a restarted ingest can skip the
 * rows it already wrote (`resumes: "by-row"`); a source that keeps its own position (a consumer
 * group) says `resumes: "itself"` and is told to commit after every written batch.
 */
export interface GraphSource {
  /** Connector name, part of the progress key in `<ns>.connectors`. */
  readonly connector: string;
  readonly resumes: "by-row" | "itself";
  /** Identifies this input (path, size and mtime for a file); a changed input starts over. */
  fingerprint(): Promise<string>;
  /** Rows expected in total, when cheaply known (for the progress bar). */
  estimateRows?(): Promise<number | undefined>;
  /** Events from row `from` on; a source that resumes itself ignores `from`. */
  events(from: number, signal?: AbortSignal): AsyncIterable<SourceEvent>;
  /**
   * Captures the position after every event yielded so far; the writer calls the returned function
   * once those events are written (while it already reads further events).
   */
  checkpoint?(): () => Promise<void>;
  close?(): Promise<void>;
}

export const badRow = (where: string, reason: string, raw: string): BadRow => ({ kind: "bad", where, reason, raw });
