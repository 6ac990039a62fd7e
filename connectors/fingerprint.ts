import { stat } from "node:fs/promises";
import { resolve } from "node:path";

/** `path:size:mtime` of each existing file; a missing file is part of the fingerprint too. */
export async function fileFingerprint(...paths: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    paths.map(async (path) => {
      const full = resolve(path);
      try {
        const info = await stat(full);
        return `${full}:${info.size}:${Math.trunc(info.mtimeMs)}`;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return `${full}:missing`;
        throw error;
      }
    }),
  );
  return parts.join("|");
}
