/**
 * Seeded pseudo-random numbers (sfc32, seeded through splitmix32). Every random draw in the GNN
 * code (initialisation, dropout, sampling) comes from one of these, so runs are reproducible.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
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
   * Fills `out` with uniform values in [lo, hi), the same values as that many float() calls.
   * The state lives in locals inside the loop: several times faster than calling float().
   */
  fillUniform(out: Float32Array, lo = 0, hi = 1): void {
    // `| 0` keeps the loop in int32 arithmetic: the fields can hold doubles (a seed's uint32 above 2^30).
    let a = this.a | 0, b = this.b | 0, c = this.c | 0, d = this.d | 0;
    const scale = (hi - lo) / 4294967296;
    for (let i = 0; i < out.length; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      out[i] = lo + (t >>> 0) * scale;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  /**
   * Fills `out` with `value` where a uniform draw is below `p` and 0 elsewhere: the same draws and
   * the same outcome as `fillUniform(out)` followed by `out[i] < p ? value : 0`, about twice as fast.
   * The test is branch-free, since a comparison of random draws is mispredicted half the time.
   */
  fillBernoulli(out: Float32Array, p: number, value: number): void {
    this.fillUniform(out);
    if (!(p > 0 && value > 0 && value < Infinity)) {
      // No draw is below p (p ≤ 0 or NaN), or 0 × value would not be +0: the plain way.
      for (let i = 0; i < out.length; i++) out[i] = out[i]! < p ? value : 0;
      return;
    }
    // Draws are non-negative float32s, whose bit patterns order as their values do: a draw is
    // below p when its bits are below those of the least float32 ≥ p, and `>>> 31` of the
    // difference says so without a branch.
    const bits = new Int32Array(out.buffer, out.byteOffset, out.length);
    const below = leastFloat32Bits(Math.min(p, 1));
    for (let i = 0; i < out.length; i++) out[i] = ((bits[i]! - below) >>> 31) * value;
  }

  /** The generator's whole state: a generator given it by `restore` draws what this one draws next. */
  state(): [number, number, number, number] {
    return [this.a, this.b, this.c, this.d];
  }

  restore(state: readonly number[]): void {
    if (state.length !== 4 || !state.every((x) => Number.isInteger(x) && x >= -0x80000000 && x <= 0xffffffff)) throw new Error(`Rng.restore: expected four 32-bit integers, got [${state.join(", ")}]`);
    [this.a, this.b, this.c, this.d] = state.map((x) => x | 0) as [number, number, number, number];
  }

  /** A new generator whose stream is independent of this one's future draws. */
  fork(): Rng {
    return new Rng(this.u32());
  }
}

/** The bit pattern of the least float32 ≥ x, for x in (0, 1]. */
function leastFloat32Bits(x: number): number {
  const f = new Float32Array([x]);
  const bits = new Int32Array(f.buffer);
  return f[0]! < x ? bits[0]! + 1 : bits[0]!;
}
