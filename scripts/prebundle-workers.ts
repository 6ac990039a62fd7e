/**
 * Bundles carls's worker threads once at install (`postinstall`), so that the first `carls demo`
 * or `carls replay` after an install starts its worker from the cache instead of waiting for
 * esbuild (~0.3 s each, more beside a busy trainer; see src/bundled-worker.ts). A bundle that
 * cannot be made now is made on first use, as before: a failure to bundle never fails the install.
 */
import { bundledWorkerSource } from "../src/bundled-worker.ts";

const WORKERS = ["../src/trainer/knowledge-worker.ts", "../src/replay/replay-worker.ts"].map((path) => new URL(path, import.meta.url));

const failed = (await Promise.allSettled(WORKERS.map((entry) => bundledWorkerSource(entry)))).flatMap((settled, i) => (settled.status === "rejected" ? [`${WORKERS[i]!.pathname}: ${String(settled.reason)}`] : []));
if (failed.length > 0) console.warn(`carls: worker bundles will be made on first use instead (${failed.join("; ")})`);
