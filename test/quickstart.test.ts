import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { it } from "node:test";

it("npm run demo:store: the quickstart's degrees add up to twice the edges", async () => {
  const dir = mkdtempSync(join(tmpdir(), "carls-quickstart-"));
  try {
    const output = await new Promise<string>((done, reject) => {
      execFile(
        process.execPath,
        ["--import", "tsx", resolve(import.meta.dirname, "../examples/quickstart.ts"), "--dir", join(dir, "store"), "--nodes", "5000", "--edges", "60000"],
        { timeout: 120_000 },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : done(stdout)),
      );
    });
    assert.match(output, /sum of degrees 120,000 = 2 × edges ✓/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
