/**
 * Waiting for a condition that only an event can make true: each `until` checks its condition
 * again whenever `wake` is called, and ends early on a timeout, an abort, or when `blocked` says
 * it never can hold.
 */
export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface Wait extends WaitOptions {
  /** Names whose wait it is in errors: `<subject>: timed out after N ms waiting for <what>`. */
  readonly subject: string;
  /** What stops the condition from ever holding (`starting`: at the first check), as the error to reject with; undefined while it still can. */
  readonly blocked?: (starting: boolean) => unknown;
}

export class Conditions {
  private waiters: Array<() => void> = [];

  /** Resolves once `condition` holds. */
  until(condition: () => boolean, what: string, wait: Wait): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (error?: unknown) => {
        if (timer) clearTimeout(timer);
        wait.signal?.removeEventListener("abort", onAbort);
        this.waiters = this.waiters.filter((w) => w !== check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const settle = (starting: boolean) => {
        if (condition()) return finish();
        const blocked = wait.blocked?.(starting);
        if (blocked !== undefined) finish(blocked);
      };
      const check = () => settle(false);
      const onAbort = () => finish(wait.signal!.reason ?? new Error(`${wait.subject}: aborted waiting for ${what}`));
      if (wait.timeoutMs !== undefined) timer = setTimeout(() => finish(new Error(`${wait.subject}: timed out after ${wait.timeoutMs} ms waiting for ${what}`)), wait.timeoutMs);
      wait.signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(check);
      if (wait.signal?.aborted) onAbort();
      else settle(true);
    });
  }

  /** Checks every waiting condition again. */
  wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
