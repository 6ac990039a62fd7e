/** `carls status`: every replica of a running program, its state, restarts, and what it reports (throughput, lag, step). */
import { openLog } from "../log/open-log.ts";
import { StatusReader, type ReplicaStatus } from "../program/status.ts";

export function statusTable(status: ReadonlyMap<string, ReplicaStatus>, now = Date.now()): string {
  const rows = [["replica", "state", "restarts", "where", "updated", "metrics"]];
  for (const [key, s] of [...status].sort(([a], [b]) => a.localeCompare(b))) {
    const metrics = Object.entries(s.metrics).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(3)}`).join(" ");
    rows.push([key, s.state + (s.error ? ` (${s.error})` : ""), String(s.restarts), `${s.host}:${s.pid}${s.thread ? `/t${s.thread}` : ""}`, `${((now - s.updatedAt) / 1000).toFixed(1)} s ago`, metrics]);
  }
  if (rows.length === 1) return "no replica has reported in this namespace\n";
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ")).join("\n") + "\n";
}

export async function statusCommand(options: { log: string; namespace: string; watch: boolean }): Promise<void> {
  const log = await openLog(options.log);
  try {
    const reader = new StatusReader(log, options.namespace);
    for (;;) {
      const table = statusTable(await reader.read());
      if (!options.watch) return void process.stdout.write(table);
      process.stdout.write(`\x1b[2J\x1b[H${options.namespace}\n${table}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await log.close();
  }
}
