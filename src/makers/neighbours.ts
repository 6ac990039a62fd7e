/**
 * The neighbours maker: the k nearest nodes of each node by embedding, found through the HNSW
 * index of the embeddings bank: the dynamic graph of CARLS. It works on a step once the
 * embeddings of every node have reached it.
 */
import type { NearestIndexOptions } from "../bank/nearest/nearest-index.ts";
import type { Maker, MakerContext, MakerOutput } from "./maker.ts";
import { SourceBank } from "./source-bank.ts";

export interface NeighboursMakerOptions {
  /** Default 10. */
  readonly k?: number;
  /** The embeddings bank (default "embeddings") and the bank written (default "neighbours"). */
  readonly source?: string;
  readonly bank?: string;
  readonly name?: string;
  /** HNSW settings (default m 12, efConstruction 64: the index is rebuilt for every checkpoint, so build speed matters). */
  readonly index?: Omit<NearestIndexOptions, "dim">;
}

export function neighboursMaker(options: NeighboursMakerOptions = {}): Maker {
  const k = options.k ?? 10;
  const bank = options.bank ?? "neighbours";
  let source: SourceBank | undefined;
  return {
    name: options.name ?? bank,
    bank,
    outputKind: "neighbours",
    hops: null,
    async start(context: MakerContext) {
      source = await SourceBank.open(context, options.source ?? "embeddings", { space: "cosine", m: 12, efConstruction: 64, ...options.index });
    },
    target: () => source?.completeStep(),
    poll: (waitMs, signal) => source!.changed(waitMs, signal),
    async compute(keys): Promise<MakerOutput> {
      const lists = await source!.view.nearestOfKeys(keys, k);
      return {
        neighbours: keys.map((key, i) => ({ key, neighbours: { ids: lists[i]!.map((n) => n.key), distances: Float32Array.from(lists[i]!, (n) => n.distance) } })),
      };
    },
    close: () => source?.close() ?? Promise.resolve(),
  };
}
