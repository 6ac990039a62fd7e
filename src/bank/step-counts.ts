/** How many keys hold each checkpoint step: a bank's oldest and newest step without a scan. */
export class StepCounts {
  private readonly counts = new Map<number, number>();

  add(step: number): void {
    this.counts.set(step, (this.counts.get(step) ?? 0) + 1);
  }

  remove(step: number): void {
    const count = (this.counts.get(step) ?? 0) - 1;
    if (count > 0) this.counts.set(step, count);
    else this.counts.delete(step);
  }

  /** Infinity when empty. */
  min(): number {
    let min = Infinity;
    for (const step of this.counts.keys()) if (step < min) min = step;
    return min;
  }

  /** -Infinity when empty. */
  max(): number {
    let max = -Infinity;
    for (const step of this.counts.keys()) if (step > max) max = step;
    return max;
  }
}
