/**
 * A neighbour bank, materialised: for each key, its nearest nodes (the dynamic graph of CARLS),
 * as the neighbours maker last found them.
 */
import type { Log } from "../log/types.ts";
import { decodeNeighbourList, type DecodedNeighbourList } from "../schema/neighbour-list.ts";
import type { Envelope } from "./codec.ts";
import { BankFollower } from "./follower.ts";
import { StepCounts } from "./step-counts.ts";
import { bankTopics, ensureBankTopics } from "./topics.ts";
import { BankView } from "./view.ts";

export interface NeighbourBankViewOptions {
  readonly follow?: boolean;
  readonly pollWaitMs?: number;
  readonly partitions?: number;
  /** Materialise from the bank's history, moved only by `replayTo(position)` (replay). */
  readonly replay?: boolean;
}

export class NeighbourBankView extends BankView {
  private readonly lists = new Map<string, DecodedNeighbourList>();
  protected readonly steps = new StepCounts();

  static async open(log: Log, namespace: string, name: string, options: NeighbourBankViewOptions = {}): Promise<NeighbourBankView> {
    const topics = bankTopics(namespace, name);
    const partitions = await ensureBankTopics(log, topics, options.partitions);
    let view: NeighbourBankView | undefined;
    view = new NeighbourBankView(new BankFollower(log, topics, partitions, (key, envelope) => view!.apply(key, envelope), undefined, options.replay ? "history" : "bank"));
    if (options.replay) return view;
    await view.catchUp();
    if (options.follow ?? true) view.follower.start(options.pollWaitMs);
    return view;
  }

  get size(): number {
    return this.lists.size;
  }

  stepOf(key: string): number {
    return this.lists.get(key)?.step ?? -1;
  }

  /** A key's neighbours, best first, or undefined when the bank holds none for it. */
  get(key: string): DecodedNeighbourList | undefined {
    return this.lists.get(key);
  }

  *entries(): Generator<[key: string, list: DecodedNeighbourList]> {
    yield* this.lists.entries();
  }

  private apply(key: string, envelope: Envelope): string | undefined {
    const old = this.lists.get(key);
    if (envelope.kind === "deleted") {
      if (old) this.steps.remove(old.step);
      this.lists.delete(key);
      return undefined;
    }
    if (envelope.kind !== "neighbours") return `a neighbour bank cannot hold a ${envelope.kind} record`;
    let list: DecodedNeighbourList;
    try {
      list = decodeNeighbourList(envelope.payload);
    } catch (error) {
      return (error as Error).message;
    }
    if (old) this.steps.remove(old.step);
    this.steps.add(list.step);
    this.lists.set(key, list);
    return undefined;
  }
}
