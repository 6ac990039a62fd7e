/**
 * Which steps of a run one replay executor may still take, shared between threads: one 64-bit word
 * holding the last step claimed (low 32 bits) and the last step allowed (high 32 bits). The
 * executor claims each step before taking it; the coordinator lowers the end to hand the rest to
 * another executor. Both change the word by compare-and-swap, so no step is taken twice and none
 * is handed away once taken.
 */
const LOW = 0xffffffffn;

export class StepClaims {
  private readonly word: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.word = new BigInt64Array(buffer);
  }

  /** Steps after `claimed` up to `end` are this executor's to take. */
  static create(claimed: number, end: number): StepClaims {
    const claims = new StepClaims(new SharedArrayBuffer(8));
    Atomics.store(claims.word, 0, pack(claimed, end));
    return claims;
  }

  read(): { claimed: number; end: number } {
    return unpack(Atomics.load(this.word, 0));
  }

  /** Takes `step`, the one after the last claimed; false when it is not this executor's any more. */
  claim(step: number): boolean {
    for (;;) {
      const now = Atomics.load(this.word, 0);
      const { claimed, end } = unpack(now);
      if (step !== claimed + 1) throw new Error(`StepClaims: step ${step} claimed after step ${claimed}`);
      if (step > end) return false;
      if (Atomics.compareExchange(this.word, 0, now, pack(step, end)) === now) return true;
    }
  }

  /** Ends this executor's steps at `end`, if it has claimed exactly `claimed` so far (else nothing changes and it returns false). */
  shrink(claimed: number, end: number): boolean {
    const now = Atomics.load(this.word, 0);
    const current = unpack(now);
    if (current.claimed !== claimed || end < claimed || end > current.end) return false;
    return Atomics.compareExchange(this.word, 0, now, pack(claimed, end)) === now;
  }
}

const pack = (claimed: number, end: number): bigint => BigInt.asIntN(64, (BigInt(end) << 32n) | BigInt(claimed));
const unpack = (word: bigint): { claimed: number; end: number } => ({ claimed: Number(word & LOW), end: Number(BigInt.asUintN(64, word) >> 32n) });
