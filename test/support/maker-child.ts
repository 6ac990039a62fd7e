/**
 * A maker in its own process, for the crash and scale-out tests:
 *   maker-child.ts <log url> <namespace> <batch size>
 * runs the embeddings maker, each batch slowed by 30 ms so that a test can kill it mid-step, printing "batch <computed>" after each batch it writes and
 * "owns <partitions>" when its node partitions change, and "caught-up <step> <partitions>" when the keys of the partitions it owns reach the newest checkpoint; stops on SIGTERM.
 */
import { openLog } from "../../src/log/index.ts";
import { embeddingsMaker, startMaker } from "../../src/makers/index.ts";
import { initBackend } from "../../graph/gnn/backend.ts";

const [url, namespace, batchSize] = process.argv.slice(2);
await initBackend();
const log = await openLog(url!);
const maker = embeddingsMaker();
const compute = maker.compute.bind(maker);
maker.compute = async (keys, step) => {
  await new Promise((r) => setTimeout(r, 30));
  return compute(keys, step);
};
const running = await startMaker(log, namespace!, maker, {
  batchSize: Number(batchSize),
  sessionTimeoutMs: 3_000,
  onBatch: (stats) => process.stdout.write(`batch ${stats.computed}\n`),
});
process.on("SIGTERM", () => void running.stop());
let reported = "";
let owned = "";
const timer = setInterval(() => {
  const { target, stale, cycles, partitions } = running.stats();
  if (partitions.join(",") !== owned) process.stdout.write(`owns ${(owned = partitions.join(","))}\n`);
  const state = `${target} ${owned}`;
  if (target !== undefined && stale === 0 && cycles > 0 && state !== reported) process.stdout.write(`caught-up ${(reported = state)}\n`);
}, 50);
await running.done.finally(() => clearInterval(timer));
await log.close();
