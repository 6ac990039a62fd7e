import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../graph/gnn/random.ts";

test("fillBernoulli keeps where the next 32-bit draw is below p × 2^32, and leaves the generator where those draws would", () => {
  // Probabilities off and on 2^-32's grid, the ends, values of every sign, and seeds whose state starts above 2^31.
  for (const p of [NaN, -1, 0, 1e-9, 2 ** -32, 0.1, 0.2, 1 / 3, 0.5, 0.8, 0.9, 1 - 2 ** -32, 1 - 2 ** -40, 1, 1.5]) {
    for (const [seed, value] of [[1, 2], [7, -3.5], [0xfffffff0, Infinity]] as const) {
      const draws = new Rng(seed);
      const bernoulli = new Rng(seed);
      const expected = new Float32Array(200_003);
      for (let i = 0; i < expected.length; i++) expected[i] = draws.u32() < p * 2 ** 32 ? value : 0;
      const got = new Float32Array(expected.length);
      bernoulli.fillBernoulli(got, p, value);
      assert.deepEqual(new Uint32Array(got.buffer), new Uint32Array(expected.buffer), `p = ${p}, seed ${seed}`);
      assert.equal(bernoulli.u32(), draws.u32());
    }
  }
});

test("a draw exactly at the threshold is dropped, one below it kept", () => {
  const draws = new Rng(3);
  const u = Array.from({ length: 64 }, () => draws.u32());
  for (const [i, draw] of u.entries()) {
    const at = new Float32Array(64);
    new Rng(3).fillBernoulli(at, draw / 2 ** 32, 1);
    const above = new Float32Array(64);
    new Rng(3).fillBernoulli(above, (draw + 1) / 2 ** 32, 1);
    assert.equal(at[i], 0, `draw ${i} (${draw}) against itself`);
    assert.equal(above[i], 1, `draw ${i} (${draw}) against one more`);
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
