/** Each node's log lines, prefixed with the node and replica, to the launcher's output and optionally to one file per replica. */
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { createInterface } from "node:readline";

export type LineSink = (line: string) => void;

export function nodeLines(out: LineSink, node: string, replica: number, logDir?: string): LineSink {
  const prefix = `[${node}/${replica}] `;
  if (logDir) mkdirSync(logDir, { recursive: true });
  const file = logDir ? join(logDir, `${node}.${replica}.log`) : undefined;
  return (line) => {
    out(prefix + line);
    if (file) appendFileSync(file, `${line}\n`);
  };
}

/** Forwards a child's stream line by line. */
export function forwardLines(stream: Readable, sink: LineSink): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on("line", sink);
}
