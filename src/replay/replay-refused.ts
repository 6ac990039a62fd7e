/** A run that cannot be replayed exactly, and why. */
export class ReplayRefused extends Error {
  override readonly name = "ReplayRefused";
}
