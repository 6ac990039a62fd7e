import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { it } from "node:test";
import { runTsx } from "./support/child-process.ts";

it("npm run demo:store: the quickstart's degrees add up to twice the edges", async () => {
  const dir = mkdtempSync(join(tmpdir(), "carls-quickstart-"));
  try {
    const output = await runTsx(resolve(import.meta.dirname, "../examples/quickstart.ts"), ["--dir", join(dir, "store"), "--nodes", "5000", "--edges", "60000"], 120_000);
    assert.match(output, /sum of degrees 120,000 = 2 × edges ✓/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
