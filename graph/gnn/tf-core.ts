/**
 * tfjs-core, required rather than imported. Its package is one 1.2 MB CommonJS bundle, and Node
 * imports CommonJS into an ES module only after checking the source for ES syntax and scanning it
 * for export names: ~100 ms more of every process's and worker thread's start than `require`.
 */
import { createRequire } from "node:module";
import type * as Core from "@tensorflow/tfjs-core";

export const core: typeof Core = createRequire(import.meta.url)("@tensorflow/tfjs-core");
