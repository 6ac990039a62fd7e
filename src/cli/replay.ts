/** `carls replay`: replays one run and says how it compares. */
import { openLog } from "../log/open-log.ts";
import { replayRun, type ReplayReport } from "../replay/replay.ts";

export async function replayCommand(options: { log: string; namespace: string; run: string; parallel?: number }): Promise<{ code: number; report?: ReplayReport }> {
  const log = await openLog(options.log);
  try {
    const report = await replayRun({
      log,
      namespace: options.namespace,
      runId: options.run,
      ...(options.parallel !== undefined ? { parallel: options.parallel } : {}),
      onStep: (done, of) => {
        if (process.stderr.isTTY && (done % 10 === 0 || done === of)) process.stderr.write(`\rreplayed ${done}/${of} steps`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write("\n");
    const ratio = (original: number) => `${original.toFixed(2)} s, ${(report.seconds / original).toFixed(2)}x`;
    const originals = [
      ...(report.originalRunSeconds !== undefined ? [`the original run, launch to end: ${ratio(report.originalRunSeconds)}`] : []),
      ...(report.originalSeconds !== undefined ? [`${report.originalRunSeconds !== undefined ? "its" : "the original"} trainer: ${ratio(report.originalSeconds)}`] : []),
    ];
    const speed = originals.length > 0 ? ` (${originals.join("; ")})` : "";
    const segments = `${report.segments} segment${report.segments === 1 ? "" : "s"} on ${report.threads} thread${report.threads === 1 ? "" : "s"}${report.threadsNote ? ` (${report.threadsNote})` : ""}`;
    process.stdout.write(`replayed ${report.runId}: ${report.steps} steps in ${segments}, ${report.checkpointsCompared} checkpoints compared, tfjs ${report.backend}, ${report.seconds.toFixed(2)} s${speed}\n`);
    if (report.backend !== report.originalBackend) process.stdout.write(`note: the run trained on tfjs ${report.originalBackend}; bit-identical results are only expected on the same backend\n`);
    if (report.carls !== report.originalCarls) process.stdout.write(`note: the run was recorded by carls ${report.originalCarls}, this is carls ${report.carls}; bit-identical results are only expected from the same version (its numerics may have changed)\n`);
    if (report.identical) {
      process.stdout.write("identical: every step's loss, terms, accuracy and bank versions, every checkpoint's weights and the result match bit for bit\n");
      return { code: 0, report };
    }
    const d = report.firstDivergence!;
    process.stdout.write(`DIVERGED at step ${d.step}: ${d.what} was ${JSON.stringify(d.original)}, replay computed ${JSON.stringify(d.replayed)}\n`);
    return { code: 2, report };
  } finally {
    await log.close();
  }
}
