/** The script a `threads` worker or a `processes` child runs: the replica spec comes from the worker's data or the environment. */
import { isMainThread, workerData } from "node:worker_threads";
import { EXIT, REPLICA_ENV, STOP_SIGNALS, type ReplicaSpec } from "./replica-spec.ts";

const spec = (isMainThread ? JSON.parse(process.env[REPLICA_ENV] ?? "null") : workerData) as ReplicaSpec | null;
if (!spec) throw new Error(`${REPLICA_ENV} is not set: this script runs one node replica for a launcher`);
// A stop that comes while the replica's code still loads ends it as stopped, not killed by the signal.
const stoppedWhileLoading = () => process.exit(EXIT.stopped);
if (isMainThread) for (const signal of STOP_SIGNALS) process.once(signal, stoppedWhileLoading);
const { runReplicaMain } = await import("./replica-main.ts");
if (isMainThread) for (const signal of STOP_SIGNALS) process.off(signal, stoppedWhileLoading);
process.exit(await runReplicaMain(spec));
