/**
 * Quickstart on the embedded store (no broker): a seeded synthetic edge stream flows through a
 * topic; two members of one consumer group split it and keep node degrees in a compacted topic;
 * a reader materialises that topic and checks it against the stream.
 *
 *   npm run demo [-- --nodes 20000 --edges 200000 --dir .carls/quickstart --seed 7]
 */
import { rmSync } from "node:fs";
import { parseArgs } from "node:util";
import { unsafeUniformIntDistribution, xoroshiro128plus } from "pure-rand";
import { openEmbeddedLog, type GroupConsumer, type Log } from "../src/log/index.ts";

const { values: args } = parseArgs({
  options: {
    nodes: { type: "string", default: "20000" },
    edges: { type: "string", default: "200000" },
    dir: { type: "string", default: ".carls/quickstart" },
    seed: { type: "string", default: "7" },
  },
});
const NODES = Number(args.nodes);
const EDGES = Number(args.edges);
const EDGES_TOPIC = "quickstart.edges";
const DEGREES_TOPIC = "quickstart.degrees";
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Edges between nodes drawn with a skew towards low ids, so degrees differ (seeded). */
async function produceEdges(log: Log): Promise<void> {
  const rng = xoroshiro128plus(Number(args.seed));
  const node = () => Math.floor(NODES * (unsafeUniformIntDistribution(0, 1_000_000, rng) / 1_000_000) ** 2) % NODES;
  for (let sent = 0; sent < EDGES; sent += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, EDGES - sent) }, () => {
      const src = node();
      const dst = (src + 1 + (unsafeUniformIntDistribution(0, NODES - 2, rng))) % NODES;
      return { key: enc.encode(String(src)), value: enc.encode(JSON.stringify({ src, dst })) };
    });
    await log.produce(EDGES_TOPIC, batch);
  }
}

/** One group member: counts degrees of what it consumes and upserts them, then commits. */
async function degreeWorker(log: Log, consumer: GroupConsumer, progress: { consumed: number }): Promise<void> {
  const degrees = new Map<number, number>();
  while (progress.consumed < EDGES) {
    const batches = await consumer.poll({ waitMs: 200 });
    const touched = new Set<number>();
    for (const batch of batches) {
      for (const record of batch.records) {
        const { src, dst } = JSON.parse(dec.decode(record.value!)) as { src: number; dst: number };
        for (const n of [src, dst]) {
          degrees.set(n, (degrees.get(n) ?? 0) + 1);
          touched.add(n);
        }
        progress.consumed++;
      }
    }
    if (touched.size === 0) continue;
    await log.produce(
      DEGREES_TOPIC,
      [...touched].map((n) => ({ key: enc.encode(`${consumer.memberId}:${n}`), value: enc.encode(String(degrees.get(n))) })),
    );
    await consumer.commit();
  }
}

rmSync(args.dir, { recursive: true, force: true });
const log = await openEmbeddedLog({ dir: args.dir });
await log.createTopic(EDGES_TOPIC, { partitions: 4, compacted: false });
await log.createTopic(DEGREES_TOPIC, { partitions: 4, compacted: true });

const started = performance.now();
const members = [await log.consumer({ group: "quickstart", topics: [EDGES_TOPIC] }), await log.consumer({ group: "quickstart", topics: [EDGES_TOPIC] })];
const progress = { consumed: 0 };
const workers = members.map((m) => degreeWorker(log, m, progress));
await produceEdges(log);
const produced = performance.now();
await Promise.all(workers);
await Promise.all(members.map((m) => m.close()));

const compaction = await log.compact(DEGREES_TOPIC);
const degree = new Map<number, number>();
for (const { partition } of await log.offsets(DEGREES_TOPIC)) {
  let offset = 0;
  for (;;) {
    const { records, nextOffset, highWatermark } = await log.read(DEGREES_TOPIC, partition, offset);
    for (const r of records) {
      const node = Number(dec.decode(r.key!).split(":")[1]);
      degree.set(node, (degree.get(node) ?? 0) + Number(dec.decode(r.value!)));
    }
    offset = nextOffset;
    if (offset >= highWatermark) break;
  }
}
const seconds = (performance.now() - started) / 1000;
const total = [...degree.values()].reduce((a, b) => a + b, 0);
const top = [...degree].sort((a, b) => b[1] - a[1]).slice(0, 5);

console.log(`carls quickstart: embedded store in ${args.dir}`);
console.log(`  ${EDGES.toLocaleString()} edges over ${NODES.toLocaleString()} nodes streamed in ${((produced - started) / 1000).toFixed(2)} s`);
console.log(`  2 group members consumed and published degrees; whole job ${seconds.toFixed(2)} s`);
console.log(`  compaction of ${DEGREES_TOPIC}: kept ${compaction.kept.toLocaleString()}, removed ${compaction.removed.toLocaleString()} superseded records`);
console.log(`  top nodes by degree: ${top.map(([n, d]) => `${n} (${d})`).join(", ")}`);
console.log(`  check: sum of degrees ${total.toLocaleString()} = 2 × edges ${total === 2 * EDGES ? "✓" : "✗"}`);
await log.close();
if (total !== 2 * EDGES) process.exit(1);
