import { closeSync, constants, openSync, watch, write, type FSWatcher } from "node:fs";
import { join } from "node:path";

const BYTE = new Uint8Array([1]);

/**
 * Wakes readers waiting for new records. Writers in this process wake local waiters directly; for
 * readers in other processes, each commit also writes one byte to `<dir>/changes`, which those
 * processes watch (inotify on Linux). A woken waiter re-checks the log, so spurious wake-ups are
 * harmless, and waits are bounded by their deadline, so a missed file event only delays a reader.
 */
export class ChangeNotifier {
  private readonly waiters = new Set<() => void>();
  private readonly path: string;
  private readonly fd: number;
  private watcher: FSWatcher | undefined;
  private writePending = false;
  private closed = false;

  constructor(dir: string) {
    this.path = join(dir, "changes");
    // Not O_APPEND: every signal rewrites byte 0, so the file stays one byte long.
    this.fd = openSync(this.path, constants.O_RDWR | constants.O_CREAT);
  }

  /** Called after a commit that others may be waiting for. */
  changed(): void {
    this.wakeAll();
    if (this.writePending || this.closed) return;
    this.writePending = true;
    write(this.fd, BYTE, 0, 1, 0, () => {
      this.writePending = false;
    });
  }

  /** Resolves on the next change in any process, at `deadline` (ms since epoch), or on abort. */
  wait(deadline: number, signal?: AbortSignal): Promise<void> {
    const delay = deadline - Date.now();
    if (delay <= 0 || this.closed || signal?.aborted) return Promise.resolve();
    this.watchOtherProcesses();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, delay);
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private watchOtherProcesses(): void {
    if (this.watcher) return;
    this.watcher = watch(this.path, { persistent: false }, () => this.wakeAll());
    this.watcher.on("error", () => {
      this.watcher = undefined;
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.wakeAll();
    closeSync(this.fd);
  }
}
