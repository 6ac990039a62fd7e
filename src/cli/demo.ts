/** `carls demo`: the semi-supervised program on the synthetic graph, inline on the embedded store, without and then with the knowledge bank. */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openLog } from "../log/open-log.ts";
import { readTrainResult } from "../trainer/trainer.ts";
import { runCommand } from "./run.ts";

const PROGRAM = fileURLToPath(new URL("../../examples/semi-supervised/program.ts", import.meta.url));

export async function demoCommand(options: { dir: string; steps: number }): Promise<number> {
  rmSync(options.dir, { recursive: true, force: true });
  const log = `embedded:${options.dir}`;
  const accuracy: Record<string, number> = {};
  for (const knowledge of [false, true]) {
    const label = knowledge ? "with the bank" : "without knowledge";
    process.stderr.write(`\ncarls demo: MLP on the synthetic graph, ${label}\n`);
    const { code, namespace } = await runCommand({ program: PROGRAM, launcher: "inline", log, namespace: `demo-${knowledge ? "bank" : "plain"}`, config: { model: "mlp", steps: options.steps, knowledge }, graceMs: 10_000 });
    if (code !== 0) return code;
    const store = await openLog(log);
    const result = await readTrainResult(store, namespace).finally(() => store.close());
    if (!result) throw new Error(`the trainer of ${namespace} published no result`);
    accuracy[label] = result.accuracy.test;
  }
  process.stdout.write(`\ntest accuracy (synthetic graph, MLP, ${options.steps} steps):\n`);
  for (const [label, value] of Object.entries(accuracy)) process.stdout.write(`  ${label.padEnd(18)} ${(100 * value).toFixed(1)} %\n`);
  process.stdout.write(`\nthe store is in ${options.dir}; look at a bank with: npx carls bank inspect predictions --log ${log} --namespace demo-bank --key 0\n`);
  return 0;
}
