/**
 * Compiles graph/gnn/csr-simd.wat into graph/gnn/csr-simd.wasm.ts (the module's bytes as base64), so
 * that carls needs no WebAssembly toolchain at run time. `npm run build:wasm`; test/gnn-sparse.test.ts
 * fails when the two differ.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const WAT = fileURLToPath(new URL("../graph/gnn/csr-simd.wat", import.meta.url));
export const GENERATED = fileURLToPath(new URL("../graph/gnn/csr-simd.wasm.ts", import.meta.url));

/** The TypeScript module that holds the compiled bytes of csr-simd.wat. */
export async function generatedSource(): Promise<string> {
  const wabt = await (await import("wabt")).default();
  const module = wabt.parseWat(WAT, readFileSync(WAT, "utf8"), { simd: true });
  try {
    module.validate();
    const { buffer } = module.toBinary({});
    return `// Generated from csr-simd.wat by \`npm run build:wasm\` (scripts/build-wasm.ts): do not edit.\nexport const CSR_SIMD_WASM = "${Buffer.from(buffer).toString("base64")}";\n`;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeFileSync(GENERATED, await generatedSource());
