/**
 * Whether a run can still be replayed: every topic range its manifest names must still be in the
 * log. Retention or deletion that removed part of one makes the run unreplayable, and says where.
 */
import type { Log } from "../log/types.ts";
import type { RunManifest, TopicRange } from "./manifest.ts";

export { ReplayRefused } from "./replay-refused.ts";

/** What stands in the way of replaying the run; empty when nothing does. Optional ranges do not count. */
export async function replayProblems(log: Log, manifest: RunManifest): Promise<string[]> {
  const problems: string[] = [];
  if (manifest.state === "running") problems.push(`run ${manifest.id} has not ended (state running): its manifest has no end offsets yet`);
  const existing = new Set(await log.listTopics());
  for (const range of manifest.topics) if (!range.optional) problems.push(...(await rangeProblems(log, range, existing)));
  return problems;
}

/** Why records of `range` are no longer all in the log; empty when they are. */
export async function rangeProblems(log: Log, range: TopicRange, existing?: ReadonlySet<string>): Promise<string[]> {
  if (!(existing ?? new Set(await log.listTopics())).has(range.topic)) return [`topic ${range.topic} was deleted; the run read or wrote offsets ${describe(range.from, range.to)} of it`];
  const problems: string[] = [];
  const offsets = await log.offsets(range.topic);
  range.to.forEach((to, p) => {
    const from = range.from[p] ?? 0;
    if (to <= from) return;
    const now = offsets.find((o) => o.partition === p);
    if (!now) problems.push(`${range.topic} has no partition ${p} any more`);
    else if (now.logStartOffset > from) problems.push(`${range.topic}[${p}] now starts at offset ${now.logStartOffset}: records ${from}..${Math.min(to, now.logStartOffset) - 1} that the run used were deleted (retention or deleteRecords)`);
    else if (now.highWatermark < to) problems.push(`${range.topic}[${p}] ends at offset ${now.highWatermark}, before the ${to} the run recorded (was the topic recreated?)`);
  });
  return problems;
}

const describe = (from: readonly number[], to: readonly number[]) => to.map((t, p) => `[${p}] ${from[p] ?? 0}..${t}`).join(", ");
