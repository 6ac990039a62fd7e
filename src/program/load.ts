/** Loads a program file: its default export builds the program from a configuration. */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Program, ProgramConfig, ProgramFactory } from "./program.ts";

const isProgram = (value: unknown): value is Program =>
  typeof value === "object" && value !== null && typeof (value as Program).name === "string" && Array.isArray((value as Program).nodes);

export async function loadProgram(file: string, config: ProgramConfig): Promise<Program> {
  const path = resolve(file);
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    throw new Error(`cannot load program file ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const exported = module.default;
  if (isProgram(exported)) return exported;
  if (typeof exported === "function") {
    const built: unknown = await (exported as ProgramFactory)(config);
    if (isProgram(built)) return built;
  }
  throw new Error(`program file ${path} must export default a program, or a function from its configuration to a program (see src/program/program.ts)`);
}
