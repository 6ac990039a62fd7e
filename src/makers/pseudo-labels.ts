/**
 * The pseudo-labels maker: for every node outside the training split, its predicted class and the
 * confidence of that prediction, from the predictions bank (class probabilities). A node below the
 * threshold gets class -1, so that the bank still says it was considered at that step.
 */
import type { Maker, MakerContext, MakerOutput } from "./maker.ts";
import { SourceBank } from "./source-bank.ts";
import type { GraphStore } from "../../graph/store/graph-store.ts";

export interface PseudoLabelsMakerOptions {
  /** Lowest probability that makes a label (default 0.9). */
  readonly threshold?: number;
  /** The predictions bank (default "predictions") and the bank written (default "pseudo-labels"). */
  readonly source?: string;
  readonly bank?: string;
  readonly name?: string;
}

/** A pseudo-label bank value: [class or -1, confidence]. */
export const NO_PSEUDO_LABEL = -1;

export function pseudoLabelsMaker(options: PseudoLabelsMakerOptions = {}): Maker {
  const threshold = options.threshold ?? 0.9;
  if (!(threshold > 0 && threshold <= 1)) throw new Error(`pseudoLabelsMaker: threshold must be in (0, 1], got ${threshold}`);
  const bank = options.bank ?? "pseudo-labels";
  let source: SourceBank | undefined;
  let graph: GraphStore | undefined;
  let train: { version: number; mask: Uint8Array } | undefined;
  const inTrainSplit = (index: number) => {
    if (train?.version !== graph!.version) train = { version: graph!.version, mask: graph!.masks().train };
    return train.mask[index] === 1;
  };
  return {
    name: options.name ?? bank,
    bank,
    outputKind: "vector",
    hops: null,
    async start(context: MakerContext) {
      graph = context.graph;
      source = await SourceBank.open(context, options.source ?? "predictions");
    },
    covers(key) {
      const index = graph!.indexOf(key);
      return index >= 0 && !inTrainSplit(index);
    },
    target: () => source?.completeStep(),
    poll: (waitMs, signal) => source!.changed(waitMs, signal),
    async compute(keys): Promise<MakerOutput> {
      const { values } = source!.view.lookup(keys);
      const classes = source!.view.dim!;
      return {
        vectors: keys.map((key, i) => {
          let best = 0;
          for (let c = 1; c < classes; c++) if (values[i * classes + c]! > values[i * classes + best]!) best = c;
          const confidence = values[i * classes + best]!;
          return { key, values: Float32Array.of(confidence >= threshold ? best : NO_PSEUDO_LABEL, confidence) };
        }),
      };
    },
    close: () => source?.close() ?? Promise.resolve(),
  };
}
