/** `carls runs`: the runs of a namespace, their state and what replaying each needs. */
import { openLog } from "../log/open-log.ts";
import { launchToEndSeconds, readManifests } from "../replay/manifest.ts";
import { replayProblems } from "../replay/retention.ts";

export async function listRuns(options: { log: string; namespace: string }): Promise<string> {
  const log = await openLog(options.log);
  try {
    const runs = await readManifests(log, options.namespace);
    if (runs.length === 0) return `no runs in namespace ${options.namespace}\n`;
    const lines: string[] = [];
    for (const run of runs) {
      const problems = await replayProblems(log, run);
      const result = run.result ? `test ${(100 * run.result.accuracy.test).toFixed(1)} %, ${run.result.steps} steps` : "";
      const fromLaunch = launchToEndSeconds(run);
      const took = run.seconds !== undefined ? `${run.seconds.toFixed(1)} s${fromLaunch !== undefined ? ` (${fromLaunch.toFixed(1)} s from launch)` : ""}` : "-";
      lines.push(
        `${run.id}  ${run.state}  ${new Date(run.startedAt).toISOString()}  ${took}  ${run.program?.name ?? "-"}  ${run.trainer.spec.kind}  tfjs ${run.backend}  ${result}`,
        problems.length === 0 ? `  replayable; needs ${run.topics.map((t) => `${t.topic} up to ${t.to.join("/")}${t.optional ? " (optional: for replaying segments side by side)" : ""}`).join(", ")}` : `  NOT replayable:\n${problems.map((p) => `    - ${p}`).join("\n")}`,
      );
    }
    return `${lines.join("\n")}\n`;
  } finally {
    await log.close();
  }
}
