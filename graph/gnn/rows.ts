/** Row selections of row-major float tables, and the check that row ids name rows. */

/** out's row i = table's row ids[i] (each `d` wide), for the first `count` ids. */
export function gatherRows(table: Float32Array, d: number, ids: ArrayLike<number>, out: Float32Array, count = ids.length): void {
  for (let i = 0; i < count; i++) out.set(table.subarray(ids[i]! * d, (ids[i]! + 1) * d), i * d);
}

/** The index of the first of ids[0 .. count) that is not a row of a `rows`-row table, or -1. */
export function firstIdOutside(ids: ArrayLike<number>, rows: number, count = ids.length): number {
  for (let i = 0; i < count; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < rows)) return i;
  }
  return -1;
}
