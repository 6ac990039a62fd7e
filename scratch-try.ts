import { launch } from "./src/program/index.ts";
import { openLog } from "./src/log/index.ts";
import { readTrainResult } from "./src/trainer/trainer.ts";
import { rmSync } from "node:fs";
for (const launcher of (process.argv[2] ?? "inline").split(",") as any[]) {
  rmSync(`/tmp/semi-${launcher}`, { recursive: true, force: true });
  const t = performance.now();
  const running = await launch({ launcher, program: "examples/semi-supervised/program.ts", config: { steps: Number(process.argv[3] ?? 40), model: process.argv[4] ?? "mlp" }, log: `embedded:/tmp/semi-${launcher}` });
  const outcome = await running.done;
  const log = await openLog(`embedded:/tmp/semi-${launcher}`);
  console.log(launcher, outcome.state, outcome.reason, ((performance.now() - t) / 1000).toFixed(2), JSON.stringify(await readTrainResult(log, running.namespace)));
  await log.close();
}
