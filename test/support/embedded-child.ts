/**
 * Child processes for the embedded multi-process tests:
 *   write <dir> <topic> <batches> <batchSize>   produce keyed batches, printing "acked <n>" after each
 *   consume <dir> <topic> <group> <count>       consume as a group member, printing "owns <partitions>" when its
 *                                                assignment changes and "got <partition> <value>" per record
 *   wait <dir> <topic>                           one long-poll read from offset 0, printing "woke <value>"
 */
import { openEmbeddedLog } from "../../src/log/index.ts";

const [command, dir, topic, ...rest] = process.argv.slice(2);
const log = await openEmbeddedLog({ dir: dir!, maintenanceIntervalMs: 0 });
const enc = new TextEncoder();
const dec = new TextDecoder();

if (command === "write") {
  const [batches, batchSize] = rest.map(Number) as [number, number];
  let n = 0;
  for (let b = 0; b < batches; b++) {
    const records = Array.from({ length: batchSize }, (_, i) => {
      const id = n + i;
      return { key: enc.encode(`k${id}`), value: enc.encode(`value-${id}-`.padEnd(200, "x")) };
    });
    await log.produce(topic!, records);
    n += batchSize;
    process.stdout.write(`acked ${n}\n`);
  }
} else if (command === "consume") {
  const [group, count] = [rest[0]!, Number(rest[1])];
  const consumer = await log.consumer({ group, topics: [topic!], sessionTimeoutMs: 3_000 });
  let got = 0;
  let owned = "";
  const deadline = Date.now() + 60_000;
  while (got < count && Date.now() < deadline) {
    const batches = await consumer.poll({ waitMs: 200 });
    const now = (await consumer.assignment()).map((tp) => tp.partition).sort().join(",");
    if (now !== owned) process.stdout.write(`owns ${(owned = now)}\n`);
    for (const batch of batches) {
      for (const r of batch.records) process.stdout.write(`got ${batch.partition} ${dec.decode(r.value!)}\n`);
      got += batch.records.length;
    }
    await consumer.commit();
  }
  await consumer.close();
} else if (command === "wait") {
  process.stdout.write("waiting\n");
  const result = await log.read(topic!, 0, 0, { waitMs: 20_000 });
  process.stdout.write(`woke ${result.records.map((r) => dec.decode(r.value!)).join(",")}\n`);
}
await log.close();
