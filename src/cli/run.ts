/** `carls run` (and `carls launch` without --graph or --emit): launch a program, show its progress, stop it cleanly on SIGINT or SIGTERM. */
import cliProgress from "cli-progress";
import { launch, type LauncherKind, type ProgramOutcome } from "../program/launch.ts";
import type { Program, ProgramConfig } from "../program/program.ts";

export interface RunCommandOptions {
  readonly program: string | Program;
  readonly launcher: LauncherKind;
  readonly log: string;
  readonly namespace?: string;
  readonly config: ProgramConfig;
  readonly graceMs: number;
  readonly logDir?: string;
}

/** Exit codes: 0 completed, 1 failed, 130 stopped by a signal. */
export async function runCommand(options: RunCommandOptions): Promise<{ code: number; outcome: ProgramOutcome; namespace: string }> {
  const tty = process.stderr.isTTY === true;
  const bars = new cliProgress.MultiBar({ format: "{replica} [{bar}] {value}/{total} {detail}", hideCursor: true, noTTYOutput: false, stream: process.stderr }, cliProgress.Presets.shades_classic);
  const out = (line: string) => (tty ? bars.log(`${line}\n`) : process.stdout.write(`${line}\n`));
  const running = await launch({ ...options, out });
  process.stderr.write(`carls: program ${running.program.name}, namespace ${running.namespace}, launcher ${options.launcher}, log ${options.log}\n`);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    signalled = true;
    process.stderr.write(`carls: ${signal}: stopping (grace ${options.graceMs} ms)\n`);
    void running.stop(signal);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  // A bar for every replica that reports `done` of `total` (the trainer does).
  const shown = new Map<string, cliProgress.SingleBar>();
  const refresh = async () => {
    for (const [key, s] of await running.status()) {
      const { done, total, ...rest } = s.metrics;
      if (done === undefined || total === undefined) continue;
      const detail = Object.entries(rest).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`).join(" | ");
      const bar = shown.get(key) ?? bars.create(total, 0, { replica: key, detail });
      shown.set(key, bar);
      bar.update(done, { replica: key, detail });
    }
  };
  // Without a terminal there are no bars to draw, so the status topic is not read.
  const timer = tty ? setInterval(() => void refresh().catch(() => undefined), 500) : undefined;
  const outcome = await running.done;
  clearInterval(timer);
  if (tty) await refresh().catch(() => undefined);
  bars.stop();
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  process.stderr.write(`carls: ${running.program.name} ${outcome.state} after ${outcome.seconds.toFixed(1)} s: ${outcome.reason}\n`);
  for (const [key, r] of Object.entries(outcome.replicas)) {
    if (r.exit.kind === "failed" || r.restarts > 0) process.stderr.write(`  ${key}: ${r.exit.kind}${r.exit.kind === "failed" ? ` (${r.exit.reason})` : ""}, ${r.restarts} restarts\n`);
  }
  if (outcome.killed.length > 0) process.stderr.write(`  killed after the grace period: ${outcome.killed.join(", ")}\n`);
  const code = outcome.state === "completed" && !signalled ? 0 : outcome.state === "failed" ? 1 : 130;
  return { code, outcome, namespace: running.namespace };
}
