/**
 * Seeded pseudo-random numbers (sfc32, seeded through splitmix32). Every random draw in the GNN
 * code (initialisation, dropout, sampling) comes from one of these, so runs are reproducible.
 */
export class Rng {
  /** sfc32's four words. */
  private readonly s = new Int32Array(4);

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return z ^ (z >>> 16);
    };
    for (let i = 0; i < 4; i++) this.s[i] = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const s = this.s;
    const a = s[0]!, b = s[1]!, c = s[2]!, d = s[3]!;
    const t = (((a + b) | 0) + d) | 0;
    s[3] = d + 1;
    s[0] = b ^ (b >>> 9);
    s[1] = c + (c << 3);
    s[2] = ((c << 21) | (c >>> 11)) + t;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n), n < 2^32. */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /**
   * Fills `out` with lo + u × (hi − lo) / 2^32 for the next out.length 32-bit draws u (those that
   * many float() calls would use), rounded to float32: a draw just below hi can round up to hi.
   * The state lives in locals inside the loop: several times faster than calling float().
   */
  fillUniform(out: Float32Array, lo = 0, hi = 1): void {
    const scale = (hi - lo) / 4294967296;
    const bits = new Int32Array(out.buffer, out.byteOffset, out.length);
    for (let from = 0; from < out.length; from += CHUNK) drawRange(this.s, out, bits, from, Math.min(out.length, from + CHUNK), { lo, scale });
  }

  /**
   * Fills `out` with `value` where the next 32-bit draw u (those that many u32() calls would use)
   * is below p × 2^32, so with probability p to within 2^-32, and +0 elsewhere. One pass in
   * integers, without branches (a comparison of random draws is mispredicted half the time):
   * u < T is the sign of (u >> 1) - (T >> 1) - (the borrow of their low bits), and `&` with
   * value's bits writes value or +0.
   */
  fillBernoulli(out: Float32Array, p: number, value: number): void {
    const threshold = p > 0 ? Math.min(Math.ceil(p * 4294967296), 4294967296) : 0;
    const bits = new Int32Array(out.buffer, out.byteOffset, out.length);
    const valueBits = new Int32Array(Float32Array.of(value).buffer)[0]!;
    const half = Math.floor(threshold / 2);
    const low = threshold % 2;
    for (let from = 0; from < out.length; from += CHUNK) drawRange(this.s, out, bits, from, Math.min(out.length, from + CHUNK), undefined, half, low, valueBits);
  }

  /** The generator's whole state: a generator given it by `restore` draws what this one draws next. */
  state(): [number, number, number, number] {
    const s = this.s;
    return [s[0]!, s[1]!, s[2]!, s[3]!];
  }

  restore(state: readonly number[]): void {
    if (state.length !== 4 || !state.every((x) => Number.isInteger(x) && x >= -0x80000000 && x <= 0xffffffff)) throw new Error(`Rng.restore: expected four 32-bit integers, got [${state.join(", ")}]`);
    this.s.set(state);
  }

  /** A new generator whose stream is independent of this one's future draws. */
  fork(): Rng {
    return new Rng(this.u32());
  }
}

/**
 * Draws per call of the generator's loop. Short calls run to their end while the loop is still
 * cold, so V8 has seen every line of it when it optimises it. A long first call was compiled in
 * the middle of its loop, with nothing known of the stores after it, and in some processes every
 * later call then left its optimised code there: 5× slower, one process in three.
 */
const CHUNK = 1024;

/**
 * sfc32 from `state` into out[from, to) (`bits` is the same memory as integers), leaving `state`
 * where it stopped: with `uniform`, lo + draw × scale; else valueBits where the draw is below
 * 2 × half + low and 0 elsewhere. One loop for both: the choice is the same for a whole call, so
 * its branch costs nothing measurable.
 */
function drawRange(state: Int32Array, out: Float32Array, bits: Int32Array, from: number, to: number, uniform: { lo: number; scale: number } | undefined, half = 0, low = 0, valueBits = 0): void {
  const lo = uniform?.lo ?? 0;
  const scale = uniform?.scale ?? 0;
  const masks = uniform === undefined;
  let a = state[0]!, b = state[1]!, c = state[2]!, d = state[3]!;
  for (let i = from; i < to; i++) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    if (masks) bits[i] = (((((t >>> 1) - half) | 0) - (~t & low)) >> 31) & valueBits;
    else out[i] = lo + (t >>> 0) * scale;
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
}
