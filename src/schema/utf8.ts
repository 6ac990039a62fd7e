/**
 * Decodes the UTF-8 of ids and keys, refusing bytes that are not UTF-8. A leading U+FEFF is kept:
 * it is part of the id, not a byte-order mark (a TextDecoder drops it by default).
 */
export const idDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
