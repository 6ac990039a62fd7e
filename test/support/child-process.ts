/** Test scripts run as child processes that report what they do, one line at a time, on stdout. */
import { execFile, spawn, type ChildProcess } from "node:child_process";

export interface Child {
  readonly proc: ChildProcess;
  /** Every complete line the child has printed so far. */
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

export function spawnTsx(script: string, ...args: string[]): Child {
  const proc = spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const lines: string[] = [];
  let partial = "";
  proc.stdout!.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
  });
  return { proc, lines, exited: new Promise((resolve) => proc.on("exit", (code) => resolve(code))) };
}

/** Polls `condition` until it holds, or fails naming `what` it waited for. */
export async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a script to its end and resolves with its stdout; rejects with its output if it fails or outlives `timeoutMs`. */
export function runTsx(script: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((done, reject) => {
    execFile(process.execPath, ["--import", "tsx", script, ...args], { timeout: timeoutMs }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : done(stdout),
    );
  });
}
