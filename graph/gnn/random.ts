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
   * the same outcome as `fillUniform(out)` followed by `out[i] < p ? value : 0`, about 8x faster.
   * The test is branch-free, since a comparison of random draws is mispredicted half the time.
   */
  fillBernoulli(out: Float32Array, p: number, value: number): void {
    const below = drawsBelow(p);
    if (below === 0 || !Number.isFinite(value)) {
      // All zeros, or a value that 0 × value would make NaN: the plain way.
      this.fillUniform(out);
      for (let i = 0; i < out.length; i++) out[i] = out[i]! < p ? value : 0;
      return;
    }
    let a = this.a | 0, b = this.b | 0, c = this.c | 0, d = this.d | 0;
    for (let i = 0; i < out.length; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      // 1 when t < below, else 0 (never -0): (below - 1 - t) / 2^32 lies in [0, 1) or [-1, 0).
      out[i] = (Math.floor((below - 1 - (t >>> 0)) * 2.3283064365386963e-10) + 1) * value;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
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

/** How many 32-bit draws t give a `fillUniform` value (t / 2^32 rounded to float32) below `p`: they are 0 .. result - 1. */
function drawsBelow(p: number): number {
  let lo = 0;
  let hi = 2 ** 32;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (Math.fround(mid / 4294967296) < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
