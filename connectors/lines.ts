import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";

export interface Line {
  readonly text: string;
  /** 1-based line number in the file. */
  readonly number: number;
}

/** Streams a text file line by line (gunzipped when the name ends in `.gz`), never loading it whole. */
export async function* readLines(path: string, signal?: AbortSignal): AsyncGenerator<Line> {
  const file = createReadStream(path, { signal });
  const input = path.endsWith(".gz") ? file.pipe(createGunzip()) : file;
  file.on("error", (error) => input.destroy(error));
  const reader = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const text of reader) yield { text, number: ++number };
  } finally {
    reader.close();
    file.destroy();
  }
}
