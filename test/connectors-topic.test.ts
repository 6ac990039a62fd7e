import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { readDeadLetters, readGraph, topicSource, writeGraph, type FieldMapping } from "../connectors/index.ts";
import { openEmbeddedLog, type Log } from "../src/log/index.ts";

const dir = mkdtempSync(join(tmpdir(), "carls-conn-topic-"));
let log: Log;
before(async () => {
  log = await openEmbeddedLog({ dir: join(dir, "store"), maintenanceIntervalMs: 0, durability: "process" });
});
after(async () => {
  await log.close();
  rmSync(dir, { recursive: true, force: true });
});

const enc = new TextEncoder();
const produce = (records: readonly unknown[]) =>
  log.produce("user.events", records.map((r) => ({ key: null, value: enc.encode(typeof r === "string" ? r : JSON.stringify(r)), partition: 0 })));

const mapping = (record: unknown): FieldMapping | undefined => {
  const kind = (record as { kind?: string }).kind;
  if (kind === "follow") return { kind: "edge", src: "from", dst: "to", weight: "meta.strength" };
  if (kind === "user") return { kind: "node", id: "user.id", label: "user.group" };
  return undefined;
};

it("maps a user topic to graph events and resumes from the group's committed offsets", async () => {
  await log.createTopic("user.events", { partitions: 1, compacted: false });
  await produce([
    { kind: "user", user: { id: "alice", group: 1 } },
    { kind: "user", user: { id: "bob", group: 0 } },
    { kind: "follow", from: "alice", to: "bob", meta: { strength: 0.5 } },
    "not json",
    { kind: "like", from: "bob" },
    { kind: "follow", from: "bob" },
  ]);
  const source = () => topicSource({ log, topic: "user.events", group: "ingest", mapping });
  const first = await writeGraph({ log, namespace: "social", source: source(), batchSize: 2, progress: false });
  assert.equal(first.nodes, 2);
  assert.equal(first.edges, 1);
  assert.equal(first.bad, 3);
  assert.deepEqual(await log.committed("ingest", "user.events"), [{ topic: "user.events", partition: 0, offset: 6 }]);
  assert.deepEqual((await readDeadLetters(log, "social")).map((l) => l.reason), [
    'user.events[0]@3: not JSON: Unexpected token \'o\', "not json" is not valid JSON',
    "user.events[0]@4: no field mapping applies to this record",
    "user.events[0]@5: to undefined is not a node id (a non-empty string or an integer)",
  ]);

  await produce([{ kind: "user", user: { id: "carol", group: 1 } }, { kind: "follow", from: "carol", to: "alice" }]);
  const second = await writeGraph({ log, namespace: "social", source: source(), batchSize: 2, progress: false });
  assert.equal(second.nodes, 3);
  assert.equal(second.edges, 2);
  const graph = await readGraph(log, "social");
  assert.equal(graph.nodeRecords, 3, "the second run read only the new records");
  assert.deepEqual([...graph.nodes.values()].map((n) => [n.id, n.label]).sort(), [["alice", 1], ["bob", 0], ["carol", 1]]);
  assert.deepEqual([...graph.edges.values()].map((e) => `${e.src}>${e.dst}:${e.weight ?? ""}`).sort(), ["alice>bob:0.5", "carol>alice:"]);
  assert.deepEqual(await log.committed("ingest", "user.events"), [{ topic: "user.events", partition: 0, offset: 8 }]);
});
