import cliProgress from "cli-progress";

export interface ProgressBar {
  update(rows: number, stats: { nodes: number; edges: number; bad: number }): void;
  stop(): void;
}

const silent: ProgressBar = { update() {}, stop() {} };

/** A bar on stderr when asked, or by default when stderr is a terminal; otherwise a no-op. */
export function progressBar(label: string, show: boolean | "auto", total: number | undefined): ProgressBar {
  const enabled = show === "auto" ? process.stderr.isTTY === true : show;
  if (!enabled) return silent;
  const known = total !== undefined && total > 0;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: known
        ? `${label} [{bar}] {percentage}% | {value}/{total} rows | {nodes} nodes {edges} edges {bad} bad | {eta_formatted}`
        : `${label} {value} rows | {nodes} nodes {edges} edges {bad} bad | {duration_formatted}`,
      hideCursor: true,
      // When asked for explicitly on a non-terminal (a CI log), print a line every few seconds.
      noTTYOutput: true,
      notTTYSchedule: 2000,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(known ? total : 0, 0, { nodes: 0, edges: 0, bad: 0 });
  return {
    update(rows, stats) {
      bar.update(rows, { nodes: stats.nodes, edges: stats.edges, bad: stats.bad });
    },
    stop() {
      bar.stop();
    },
  };
}
