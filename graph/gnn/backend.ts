/**
 * Chooses the tfjs backend: native TensorFlow (tfjs-node-gpu, then tfjs-node) when the user has
 * installed it, else WebAssembly, else plain JavaScript. CARLS_TF_BACKEND or the argument forces one.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type * as Core from "@tensorflow/tfjs-core";
import { core as tf } from "./tf-core.ts";

export type BackendName = "tensorflow" | "wasm" | "cpu";

export interface BackendInfo {
  /** The tfjs backend now active. */
  readonly name: BackendName;
  /** The package that provides it. */
  readonly package: string;
  /** Whether the argument or CARLS_TF_BACKEND chose it. */
  readonly forced: boolean;
  /** Why the backends before it in the order were not used. */
  readonly skipped: readonly string[];
}

const NAMES: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];
const NATIVE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;
// Required, not imported, as tfjs-core is (tf-core.ts says why); each registers its backend.
const require = createRequire(import.meta.url);
require("@tensorflow/tfjs-backend-cpu");
const { setWasmPaths } = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");

// tfjs clones every tensor a gradient saves (Identity): the wasm backend's Identity copies the
// data (two copies of the dropped input a step for a dense first layer), the cpu backend's shares
// it. Tensors are immutable and wasm counts each data's references (its Reshape shares them too),
// so sharing is as safe there.
tf.unregisterKernel(tf.Identity, "wasm");
tf.registerKernel({
  kernelName: tf.Identity,
  backendName: "wasm",
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x as Core.TensorInfo;
    (backend as Core.KernelBackend & { incRef(dataId: Core.DataId): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
});

let current: Promise<BackendInfo> | undefined;
let currentKey: string | undefined;

/**
 * Activates a backend: `preferred` if given, else CARLS_TF_BACKEND if set, else the first that
 * works in the order tensorflow (tfjs-node-gpu, tfjs-node), wasm, cpu. Later calls with the same
 * choice return the same promise and log nothing.
 */
export function initBackend(preferred?: BackendName): Promise<BackendInfo> {
  const forced = preferred ?? parseEnv(process.env.CARLS_TF_BACKEND);
  const key = forced ?? "auto";
  if (current && currentKey === key) return current;
  const attempt = choose(forced).then((info) => {
    process.stderr.write(`carls: tfjs backend ${info.name}${describe(info)}\n`);
    return info;
  });
  current = attempt;
  currentKey = key;
  attempt.catch(() => {
    if (current !== attempt) return;
    current = undefined;
    currentKey = undefined;
  });
  return attempt;
}

function parseEnv(value: string | undefined): BackendName | undefined {
  if (value === undefined || value === "") return undefined;
  if ((NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`CARLS_TF_BACKEND=${value} is not a tfjs backend carls knows; use one of ${NAMES.join(", ")}`);
}

function describe(info: BackendInfo): string {
  if (info.forced) return ` (forced; ${info.package})`;
  return info.skipped.length > 0 ? ` (${info.skipped.join("; ")})` : ` (${info.package})`;
}

async function choose(forced: BackendName | undefined): Promise<BackendInfo> {
  const skipped: string[] = [];
  for (const name of forced ? [forced] : NAMES) {
    const attempt = await activate(name);
    if (typeof attempt !== "string") return { ...attempt, forced: forced !== undefined, skipped };
    if (forced) {
      const available = (await Promise.all(NAMES.filter((n) => n !== forced).map(async (n) => ((await canActivate(n)) ? n : undefined)))).filter(Boolean);
      throw new Error(`tfjs backend "${forced}" was requested but is not available: ${attempt}. Available here: ${available.join(", ") || "none"}`);
    }
    skipped.push(attempt);
  }
  throw new Error(`no tfjs backend could be started: ${skipped.join("; ")}`);
}

/** Activates `name`, or returns why it cannot run here. */
async function activate(name: BackendName): Promise<{ name: BackendName; package: string } | string> {
  switch (name) {
    case "tensorflow":
      return activateNative();
    case "wasm":
      return activateWasm();
    case "cpu":
      return (await tf.setBackend("cpu")) ? { name, package: "@tensorflow/tfjs-backend-cpu" } : "the cpu backend failed to start";
  }
}

async function canActivate(name: BackendName): Promise<boolean> {
  if (name === "tensorflow") return NATIVE_PACKAGES.some(isInstalled);
  return tf.findBackendFactory(name) !== null;
}

async function activateNative(): Promise<{ name: BackendName; package: string } | string> {
  const reasons: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    if (!isInstalled(pkg)) {
      reasons.push(`${pkg.slice("@tensorflow/".length)} not installed`);
      continue;
    }
    try {
      await import(pkg);
    } catch (err) {
      reasons.push(`${pkg} failed to load: ${(err as Error).message.split("\n")[0]}`);
      continue;
    }
    // A tfjs-node built against another tfjs-core copy registers its backend on that copy's engine.
    if (tf.findBackendFactory("tensorflow") === null) {
      reasons.push(`${pkg} registers on a different @tensorflow/tfjs-core than carls' ${tf.version_core}; install the matching version`);
      continue;
    }
    if (await tf.setBackend("tensorflow")) return { name: "tensorflow", package: pkg };
    reasons.push(`${pkg} failed to initialise`);
  }
  return reasons.join(", ");
}

async function activateWasm(): Promise<{ name: BackendName; package: string } | string> {
  const pkg = "@tensorflow/tfjs-backend-wasm";
  setWasmPaths(join(dirname(require.resolve(`${pkg}/package.json`)), "dist") + "/");
  const before = { uncaught: process.listeners("uncaughtException"), rejection: process.listeners("unhandledRejection") };
  const ok = await tf.setBackend("wasm").catch(() => false);
  // The Emscripten runtime installs process handlers that rethrow every error from inside its
  // minified source (burying the real stack trace); Node's defaults are what callers expect.
  for (const l of process.listeners("uncaughtException")) if (!before.uncaught.includes(l)) process.removeListener("uncaughtException", l);
  for (const l of process.listeners("unhandledRejection")) if (!before.rejection.includes(l)) process.removeListener("unhandledRejection", l);
  return ok ? { name: "wasm", package: pkg } : "the wasm backend failed to start";
}

function isInstalled(pkg: string): boolean {
  try {
    require.resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}
