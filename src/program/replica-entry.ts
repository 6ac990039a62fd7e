/** The script a `threads` worker or a `processes` child runs: the replica spec comes from the worker's data or the environment. */
import { isMainThread, workerData } from "node:worker_threads";
import { REPLICA_ENV, type ReplicaSpec } from "./replica-spec.ts";
import { runReplicaMain } from "./replica-main.ts";

const spec = (isMainThread ? JSON.parse(process.env[REPLICA_ENV] ?? "null") : workerData) as ReplicaSpec | null;
if (!spec) throw new Error(`${REPLICA_ENV} is not set: this script runs one node replica for a launcher`);
process.exit(await runReplicaMain(spec));
