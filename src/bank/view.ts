/** What every materialised bank offers, whatever it holds: versions, lag, freshness waits. */
import type { AwaitOptions, BankFollower, BankPosition } from "./follower.ts";
import type { StepCounts } from "./step-counts.ts";
import { bankNameOf } from "./topics.ts";

/** Which knowledge a reader had: the freshness of the bank and exactly where it was in its topics. */
export interface BankVersion {
  readonly bank: string;
  readonly size: number;
  /** The oldest and newest checkpoint steps held (Infinity and -Infinity when empty). */
  readonly minStep: number;
  readonly maxStep: number;
  readonly position: BankPosition;
}

/**
 * Whether a bank at `version` holds at least `minKeys` keys, every one from checkpoint `step` or
 * later: the staleness bound. An empty bank holds every key that late (it holds none), so with
 * `minKeys` 0 it passes.
 */
export function isFresh(version: Pick<BankVersion, "size" | "minStep">, step: number, minKeys: number): boolean {
  return version.size >= minKeys && version.minStep >= step;
}

export abstract class BankView {
  protected constructor(readonly follower: BankFollower) {}

  abstract get size(): number;
  /** The checkpoint step a key's value came from, -1 when the bank does not hold it. */
  abstract stepOf(key: string): number;
  protected abstract get steps(): StepCounts | undefined;

  /** The bank topic, `<namespace>.kb.<bank>`. */
  get name(): string {
    return this.follower.topics.bank;
  }

  /** The bank's own name, `<bank>`. */
  get bankName(): string {
    return bankNameOf(this.name);
  }

  version(): BankVersion {
    return { bank: this.name, size: this.size, minStep: this.steps?.min() ?? Infinity, maxStep: this.steps?.max() ?? -Infinity, position: this.follower.position() };
  }

  /** Records in the topic not applied yet. */
  lag(): number {
    return this.follower.lag();
  }

  /**
   * Waits until every key holds a value from checkpoint `step` or later, and at least `minKeys`
   * keys are held (default 1): the staleness bound of a trainer.
   */
  awaitVersion(step: number, options: AwaitOptions & { readonly minKeys?: number } = {}): Promise<void> {
    const minKeys = options.minKeys ?? 1;
    if (!Number.isSafeInteger(step)) return Promise.reject(new Error(`${this.name}: awaitVersion needs a checkpoint step (an integer), got ${step}`));
    if (!(Number.isSafeInteger(minKeys) && minKeys >= 0)) return Promise.reject(new Error(`${this.name}: awaitVersion's minKeys must be an integer ≥ 0, got ${minKeys}`));
    return this.follower.until(() => isFresh({ size: this.size, minStep: this.steps?.min() ?? Infinity }, step, minKeys), `${this.name} to reach step ${step} on ${minKeys}+ keys`, options);
  }

  /** Applies everything produced before this call. */
  catchUp(): Promise<void> {
    return this.follower.catchUp();
  }

  /** A view opened with `replay`: moves to where a past reader was (its recorded `BankVersion.position`). */
  replayTo(position: BankPosition): Promise<void> {
    return this.follower.replayTo(position.historyOffsets);
  }

  /** Stops following the topic. */
  close(): Promise<void> {
    return this.follower.stop();
  }
}
