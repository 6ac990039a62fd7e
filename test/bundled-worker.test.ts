import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const CACHE = fileURLToPath(new URL("../node_modules/.cache/carls/", import.meta.url));
const BUNDLER = pathToFileURL(fileURLToPath(new URL("../src/bundled-worker.ts", import.meta.url))).href;

/**
 * In a process of its own (bundles are kept per process): bundles `entry`, runs it as a worker,
 * returns the bundle file and what the worker posted. `lose`: the bundle is deleted after the
 * process first got it, as another process replacing it would, before the worker starts.
 */
function runBundled(entry: string, lose = false): { file: string; posted: unknown } {
  const script = `
    import { rmSync } from "node:fs";
    import { fileURLToPath } from "node:url";
    import { Worker } from "node:worker_threads";
    import { bundledWorkerSource } from ${JSON.stringify(BUNDLER)};
    const entry = new URL(${JSON.stringify(pathToFileURL(entry).href)});
    if (${lose}) rmSync(fileURLToPath(/^import\\("(.*)"\\)$/.exec(await bundledWorkerSource(entry))[1]));
    const source = await bundledWorkerSource(entry);
    const worker = new Worker(source, { eval: true });
    const posted = await new Promise((resolve, reject) => { worker.once("message", resolve); worker.once("error", reject); });
    await worker.terminate();
    console.log(JSON.stringify({ source, posted }));`;
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", script], { encoding: "utf8" });
  const { source, posted } = JSON.parse(out.trim().split("\n").at(-1)!) as { source: string; posted: unknown };
  const url = /^import\("(.*)"\)$/.exec(source)?.[1];
  assert.ok(url, `a bundle, not the tsx bootstrap: ${source}`);
  return { file: fileURLToPath(url), posted };
}

test("a worker runs from its bundle; a changed source gets a new bundle, which replaces the entry's old one", () => {
  const dir = mkdtempSync(join(tmpdir(), "carls-bundle-"));
  const entry = join(dir, "entry.ts");
  const made: string[] = [];
  // Values of different lengths: the sources' sizes change, not only their mtimes.
  const write = (value: number) => writeFileSync(entry, `import { parentPort } from "node:worker_threads";\nconst value: number = ${value};\nparentPort!.postMessage(value);\n`);
  try {
    write(1);
    const first = runBundled(entry);
    made.push(first.file);
    assert.equal(first.posted, 1);
    assert.deepEqual(runBundled(entry), first, "unchanged sources reuse the bundle");
    assert.deepEqual(runBundled(entry, true), first, "a process whose bundle was removed builds it again");
    write(22);
    const latest = runBundled(entry);
    made.push(latest.file);
    assert.equal(latest.posted, 22);
    assert.notEqual(latest.file, first.file);
    assert.ok(existsSync(latest.file));
    assert.ok(!existsSync(first.file), "the old bundle of the entry is removed");
  } finally {
    rmSync(dir, { recursive: true, force: true });
    // The cache keeps one bundle and one record per entry: this test's entry is gone, so are they.
    for (const file of made) rmSync(file, { force: true });
    rmSync(join(CACHE, `${createHash("sha256").update(entry).digest("hex").slice(0, 16)}.json`), { force: true });
  }
});
