/** A maker's input bank: followed live, complete once it holds a value for every node the maker covers. */
import { VectorBankView } from "../bank/vector-view.ts";
import type { NearestIndexOptions } from "../bank/nearest/nearest-index.ts";
import type { GraphStore } from "../../graph/store/graph-store.ts";
import type { MakerContext } from "./maker.ts";

export class SourceBank {
  private constructor(
    readonly view: VectorBankView,
    private readonly graph: GraphStore,
  ) {}

  static async open(context: MakerContext, bank: string, nearest?: Omit<NearestIndexOptions, "dim">): Promise<SourceBank> {
    return new SourceBank(await VectorBankView.open(context.log, context.namespace, bank, { pollWaitMs: 100, ...(nearest ? { nearest } : {}) }), context.graph);
  }

  /** The step every live node's value has reached, or undefined while some node has none. */
  completeStep(): number | undefined {
    const live = this.graph.numNodes - this.graph.holes().length;
    if (live === 0 || this.view.size < live) return undefined;
    return this.view.version().minStep;
  }

  /** Waits up to `waitMs` for the complete step to move past what it is now. */
  async changed(waitMs: number, signal: AbortSignal): Promise<void> {
    const now = this.completeStep();
    await this.view.follower.until(() => this.completeStep() !== now, "a new step", { timeoutMs: waitMs, signal }).catch(() => undefined);
  }

  close(): Promise<void> {
    return this.view.close();
  }
}
