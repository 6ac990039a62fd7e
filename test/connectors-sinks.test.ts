import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { readTopic, writePredictions, type Prediction } from "../connectors/index.ts";
import { openEmbeddedLog } from "../src/log/index.ts";

const dir = mkdtempSync(join(tmpdir(), "carls-conn-sinks-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const predictions: Prediction[] = [
  { id: "a", class: 1, scores: Float32Array.of(0.25, 0.75) },
  { id: "b,c", class: 0, scores: [0.5, 0.5] },
];

it("writes predictions as JSON lines and CSV", async () => {
  const jsonl = join(dir, "p.jsonl");
  const csv = join(dir, "p.csv");
  assert.equal(await writePredictions(predictions, { kind: "jsonl", path: jsonl }), 2);
  assert.equal(await writePredictions(predictions, { kind: "csv", path: csv }), 2);
  assert.equal(readFileSync(jsonl, "utf8"), '{"id":"a","class":1,"scores":[0.25,0.75]}\n{"id":"b,c","class":0,"scores":[0.5,0.5]}\n');
  assert.equal(readFileSync(csv, "utf8"), 'id,class,score0,score1\na,1,0.25,0.75\n"b,c",0,0.5,0.5\n');
  await assert.rejects(writePredictions([{ id: "x", class: 0 }], { kind: "jsonl", path: join(dir, "missing", "p.jsonl") }), /missing\/p.jsonl: ENOENT/);
});

it("writes predictions to a topic keyed by node id", async () => {
  const log = await openEmbeddedLog({ dir: join(dir, "store"), maintenanceIntervalMs: 0, durability: "process" });
  try {
    await log.createTopic("run.predictions", { partitions: 2, compacted: true });
    assert.equal(await writePredictions(predictions, { kind: "topic", log, topic: "run.predictions" }), 2);
    const dec = new TextDecoder();
    const stored = [];
    for await (const r of readTopic(log, "run.predictions")) stored.push([dec.decode(r.key!), JSON.parse(dec.decode(r.value!))]);
    assert.deepEqual(stored.sort(), [["a", { class: 1, scores: [0.25, 0.75] }], ["b,c", { class: 0, scores: [0.5, 0.5] }]]);
  } finally {
    await log.close();
  }
});
