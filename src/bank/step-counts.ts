/** How many keys hold each checkpoint step: a bank's oldest and newest step without a scan. */
export class StepCounts {
  private readonly counts = new Map<number, number>();
  /**
   * Adds of one step in a row, not yet in `counts`: a version writes many keys at one step, and a
   * restore of 1M keys spent 20–50 ms on the map alone.
   */
  private runStep = NaN;
  private runLength = 0;

  add(step: number): void {
    if (this.runLength > 0 && Object.is(step, this.runStep)) {
      this.runLength++;
      return;
    }
    this.flush();
    [this.runStep, this.runLength] = [step, 1];
  }

  remove(step: number): void {
    this.flush();
    const count = (this.counts.get(step) ?? 0) - 1;
    if (count > 0) this.counts.set(step, count);
    else this.counts.delete(step);
  }

  /** Infinity when empty. */
  min(): number {
    this.flush();
    let min = Infinity;
    for (const step of this.counts.keys()) if (step < min) min = step;
    return min;
  }

  /** -Infinity when empty. */
  max(): number {
    this.flush();
    let max = -Infinity;
    for (const step of this.counts.keys()) if (step > max) max = step;
    return max;
  }

  private flush(): void {
    if (this.runLength === 0) return;
    this.counts.set(this.runStep, (this.counts.get(this.runStep) ?? 0) + this.runLength);
    this.runLength = 0;
  }
}
