/** A copy of `array` with room for at least `length` elements (capacity doubles), or `array` itself. */
export function ensureLength<T extends Float32Array | Int32Array | Uint8Array | Float64Array>(array: T, length: number, fill = 0): T {
  if (length <= array.length) return array;
  let capacity = Math.max(array.length, 16);
  while (capacity < length) capacity *= 2;
  const grown = new (array.constructor as new (n: number) => T)(capacity);
  if (fill !== 0) grown.fill(fill, array.length);
  grown.set(array);
  return grown;
}
