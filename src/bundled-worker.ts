/**
 * Worker threads that start fast: the .ts entry and the project sources it imports are bundled
 * into one ES module with esbuild (packages stay external and load natively), so the worker does
 * not compile a hundred files through tsx's loader thread. It starts in about half the time, and
 * takes less CPU from the threads already running. Each module's `import.meta.url` and
 * `import.meta.dirname` are kept as they were in its source file, so file-relative URLs still work.
 * A bundle is kept with the size and mtime of every source in it, and reused while none changed;
 * a new bundle of an entry replaces its old one.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, version as esbuildVersion, type Plugin } from "esbuild";
import { tsWorkerSource } from "./ts-worker.ts";

const CACHE = fileURLToPath(new URL("../node_modules/.cache/carls/", import.meta.url));
/** Per entry, this process's bundle of it (`file` absent for the tsx bootstrap). */
const built = new Map<string, Promise<{ source: string; file?: string }>>();

/**
 * The source of a worker (for `new Worker(source, { eval: true })`) that runs `entry`, bundled once
 * per process, and again if another process replaced the bundle since; where the bundle cannot be
 * written (a read-only install), the tsx bootstrap.
 */
export async function bundledWorkerSource(entry: URL): Promise<string> {
  const cached = built.get(entry.href);
  const hit = cached && (await cached.catch(() => undefined));
  if (hit && (hit.file === undefined || existsSync(hit.file))) return hit.source;
  const next = bundle(entry).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EACCES" || error.code === "EROFS" || error.code === "EPERM") return { source: tsWorkerSource(entry) };
    throw error;
  });
  built.set(entry.href, next);
  next.catch(() => built.delete(entry.href));
  return (await next).source;
}

/** A bundle and what it was built from: each source file's `size/mtimeMs`, this bundler's and esbuild's. */
interface Built {
  readonly file: string;
  readonly sources: Readonly<Record<string, string>>;
}

const BUNDLER = fileURLToPath(import.meta.url);

/** Writes whole or not at all, so that another process never imports half a bundle. */
function writeAtomically(path: string, data: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

const stamp = (path: string): string | undefined => {
  try {
    const stat = statSync(path);
    return `${stat.size}/${stat.mtimeMs}`;
  } catch {
    return undefined;
  }
};

async function bundle(entry: URL): Promise<{ source: string; file: string }> {
  const entryPath = fileURLToPath(entry);
  const record = join(CACHE, `${createHash("sha256").update(entryPath).digest("hex").slice(0, 16)}.json`);
  const importing = (file: string) => ({ source: `import(${JSON.stringify(pathToFileURL(file).href)})`, file });
  const previous = readBuilt(record);
  if (previous && Object.entries(previous.sources).every(([path, was]) => (path === "esbuild" ? esbuildVersion : stamp(path)) === was) && stamp(previous.file)) return importing(previous.file);

  const result = await build({ entryPoints: [entryPath], bundle: true, platform: "node", format: "esm", target: "node20", packages: "external", write: false, metafile: true, logLevel: "silent", plugins: [keepImportMeta] });
  const code = result.outputFiles[0]!.contents;
  const file = join(CACHE, `${createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`);
  mkdirSync(CACHE, { recursive: true });
  writeAtomically(file, code);
  const inputs = [...Object.keys(result.metafile.inputs).map((input) => join(process.cwd(), input)), BUNDLER];
  const sources = { ...Object.fromEntries(inputs.map((path) => [path, stamp(path) ?? ""])), esbuild: esbuildVersion };
  writeAtomically(record, JSON.stringify({ file, sources } satisfies Built));
  // The entry's previous bundle is stale now; each entry keeps one (a process that still holds it builds again).
  if (previous && previous.file !== file) rmSync(previous.file, { force: true });
  return importing(file);
}

function readBuilt(path: string): Built | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Built;
  } catch {
    return undefined;
  }
}

const keepImportMeta: Plugin = {
  name: "keep-import-meta",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const contents = readFileSync(args.path, "utf8")
        .replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path)));
      return { contents, loader: "ts" };
    });
  },
};
