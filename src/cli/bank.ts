/** `carls bank inspect`: a bank's size, versions and lag, one key's value, a key's nearest neighbours. */
import { NeighbourBankView } from "../bank/neighbour-view.ts";
import { bankTopics, bankValues } from "../bank/topics.ts";
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
    const topics = bankTopics(options.namespace, options.bank);
    if (!(await log.listTopics()).includes(topics.bank)) throw new Error(`no bank ${options.bank} in namespace ${options.namespace} (no topic ${topics.bank})`);
    // Opened as what it holds: a view of the other kind would send every record to the dead letters.
    const view = (await bankValues(log, topics)) === "neighbours" ? await NeighbourBankView.open(log, options.namespace, options.bank, { follow: false }) : await VectorBankView.open(log, options.namespace, options.bank, { follow: false });
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
