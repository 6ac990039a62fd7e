/** Option parsing shared by the commands. */
import { InvalidArgumentError } from "commander";
import type { ProgramConfig } from "../program/program.ts";
import { checkNamespace } from "../schema/namespace.ts";

/** `--set key=value`, repeatable: numbers and booleans stay strings; each program decodes its own configuration. */
export function collectSetting(entry: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = entry.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError(`expected key=value, got ${JSON.stringify(entry)}`);
  return { ...previous, [entry.slice(0, at)]: entry.slice(at + 1) };
}

/** `--namespace`: a namespace topic names can start with. */
export function namespaceOption(value: string): string {
  try {
    return checkNamespace(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0)) throw new InvalidArgumentError(`expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** `--config-json` (a JSON object) merged under the `--set` entries. */
export function programConfig(json: string | undefined, settings: Record<string, string> | undefined): ProgramConfig {
  let base: unknown = {};
  if (json !== undefined) {
    try {
      base = JSON.parse(json);
    } catch (error) {
      throw new InvalidArgumentError(`--config-json is not JSON: ${(error as Error).message}`);
    }
    if (typeof base !== "object" || base === null || Array.isArray(base)) throw new InvalidArgumentError("--config-json must be a JSON object");
  }
  return { ...(base as ProgramConfig), ...(settings ?? {}) };
}

export const DEFAULT_LOG = process.env.CARLS_LOG ?? "embedded:.carls/store";
