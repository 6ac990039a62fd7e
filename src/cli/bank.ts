/** `carls bank inspect`: a bank's size, versions and lag, one key's value, a key's nearest neighbours. */
import { NeighbourBankView } from "../bank/neighbour-view.ts";
import { VectorBankView } from "../bank/vector-view.ts";
import { openLog } from "../log/open-log.ts";

export interface InspectOptions {
  readonly log: string;
  readonly namespace: string;
  readonly bank: string;
  readonly key?: string;
  readonly nearest?: number;
}

const steps = (min: number, max: number) => (Number.isFinite(min) ? `${min} .. ${max}` : "none");

export async function inspectBank(options: InspectOptions): Promise<string> {
  const log = await openLog(options.log);
  const lines: string[] = [];
  try {
    const topic = `${options.namespace}.kb.${options.bank}`;
    if (!(await log.listTopics()).includes(topic)) throw new Error(`no bank ${options.bank} in namespace ${options.namespace} (no topic ${topic})`);
    let view: VectorBankView | NeighbourBankView = await VectorBankView.open(log, options.namespace, options.bank, { follow: false });
    try {
      await view.catchUp();
    } catch {
      // Not vectors: a neighbour bank.
      await view.close();
      view = await NeighbourBankView.open(log, options.namespace, options.bank, { follow: false });
      await view.catchUp();
    }
    try {
      const v = view.version();
      lines.push(`bank ${options.bank} (${view instanceof VectorBankView ? `vectors, dim ${view.dim ?? "?"}` : "neighbour lists"})`, `  keys:  ${v.size}`, `  steps: ${steps(v.minStep, v.maxStep)}`, `  lag:   ${view.lag()} records`);
      if (options.key !== undefined) {
        const step = view.stepOf(options.key);
        if (step < 0) lines.push(`  ${options.key}: not in the bank`);
        else if (view instanceof VectorBankView) {
          const { values } = view.lookup([options.key]);
          const shown = Array.from(values.subarray(0, 8), (x) => x.toFixed(4)).join(", ");
          lines.push(`  ${options.key} (step ${step}): [${shown}${values.length > 8 ? `, … ${values.length - 8} more` : ""}]`);
          if (options.nearest) {
            const [near] = await view.nearestOfKeys([options.key], options.nearest);
            lines.push(`  nearest ${options.nearest}:`, ...(near ?? []).map((n) => `    ${n.key}  distance ${n.distance.toFixed(4)}`));
          }
        } else {
          const list = view.get(options.key)!;
          lines.push(`  ${options.key} (step ${step}): ${list.ids.map((id, i) => `${id} (distance ${list.distances[i]!.toFixed(4)})`).join(", ")}`);
        }
      }
    } finally {
      await view.close();
    }
  } finally {
    await log.close();
  }
  return `${lines.join("\n")}\n`;
}
