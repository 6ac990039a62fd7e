import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../graph/gnn/random.ts";

test("fillBernoulli gives what fillUniform then a threshold gives, and leaves the generator where it would", () => {
  // Probabilities on and off float32's grid, the ends, and seeds whose state starts above 2^31.
  for (const p of [0, 1e-9, 0.1, 0.2, 1 / 3, 0.5, 0.8, 0.9, 1 - 2 ** -25, 1, 1.5]) {
    for (const seed of [1, 7, 0xfffffff0]) {
      const uniform = new Rng(seed);
      const bernoulli = new Rng(seed);
      const expected = new Float32Array(200_003);
      uniform.fillUniform(expected);
      for (let i = 0; i < expected.length; i++) expected[i] = expected[i]! < p ? 1 / p : 0;
      const got = new Float32Array(expected.length);
      bernoulli.fillBernoulli(got, p, 1 / p);
      assert.deepEqual(new Uint32Array(got.buffer), new Uint32Array(expected.buffer), `p = ${p}, seed ${seed}`);
      assert.equal(bernoulli.u32(), uniform.u32());
    }
  }
});

test("a draw that rounds up to 1.0 in float32 is below a p above 1", () => {
  // Draw 6,927,313 of seed 11 is within 2^-25 of 1 and rounds to 1.0 (found by search).
  const at = 6_927_313;
  const draws = new Float32Array(at + 1);
  new Rng(11).fillUniform(draws);
  assert.equal(draws[at], 1);
  const mask = new Float32Array(at + 1);
  new Rng(11).fillBernoulli(mask, 1.5, 2);
  assert.equal(mask[at], 2);
});

test("a draw exactly at the threshold's float32 boundary is decided as fillUniform's value would be", () => {
  // p just above a float32 value v: every draw that rounds to v counts as below p.
  const v = Math.fround(0.3);
  for (const p of [v, v + 2 ** -40, Math.fround(v + 2 ** -25)]) {
    const draws = new Rng(3);
    const values = new Float32Array(1 << 20);
    draws.fillUniform(values);
    const mask = new Float32Array(values.length);
    new Rng(3).fillBernoulli(mask, p, 1);
    for (let i = 0; i < values.length; i++) if ((values[i]! < p ? 1 : 0) !== mask[i]) assert.fail(`draw ${i} (${values[i]}) against p = ${p}`);
  }
});

test("fillUniform draws what float() draws one at a time, across the chunks it fills in, and state/restore resume the stream", () => {
  for (const seed of [1, 0xfffffff0]) {
    const one = new Rng(seed);
    const filled = new Rng(seed);
    const values = new Float32Array(5000);
    filled.fillUniform(values, -1, 3);
    for (let i = 0; i < values.length; i++) if (values[i] !== Math.fround(-1 + one.float() * 4)) assert.fail(`seed ${seed}, draw ${i}`);
    const resumed = new Rng(0);
    resumed.restore(filled.state());
    const next = one.u32();
    assert.equal(filled.u32(), next);
    assert.equal(resumed.u32(), next);
  }
  // The stream itself: sfc32 seeded through splitmix32, as recorded runs drew it.
  assert.deepEqual(Array.from({ length: 4 }, ((rng) => () => rng.u32())(new Rng(42))), [1028872839, 2516511472, 400437680, 853279530]);
});
