/** Of `values[from .. to)`, the offset (from `from`) of the first NaN or infinite value, or -1. */
export function firstNonFinite(values: Float32Array, from = 0, to = values.length): number {
  for (let i = from; i < to; i++) if (!Number.isFinite(values[i])) return i - from;
  return -1;
}
