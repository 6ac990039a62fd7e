/**
 * A program is a value: a graph of named nodes, in groups and with replicas, joined by handles
 * (topics, banks, RPC services). The same value runs under every launcher; a launcher only decides
 * where each node replica runs (a fiber, a worker thread, a process, a pod).
 */
import type { Effect, Scope } from "effect";
import type { Handle } from "./handles.ts";
import type { NodeContext } from "./context.ts";

/** What happens when a node replica fails (exits with an error, or is killed). */
export type RestartPolicy =
  | { readonly kind: "never" }
  /** Restart after `backoffMs` (doubling up to `maxBackoffMs`), at most `maxRestarts` times (default: without end). */
  | { readonly kind: "on-failure"; readonly backoffMs?: number; readonly maxBackoffMs?: number; readonly maxRestarts?: number };

export const never: RestartPolicy = { kind: "never" };
export const onFailure = (options: Omit<Extract<RestartPolicy, { kind: "on-failure" }>, "kind"> = {}): RestartPolicy => ({ kind: "on-failure", ...options });

/** A node's work: an effect with scoped resources. It completes (a finite job) or runs until interrupted. */
export type NodeRun = (context: NodeContext) => Effect.Effect<void, unknown, Scope.Scope>;

export interface NodeDefinition {
  readonly name: string;
  /** Nodes of one group deploy together (one Kubernetes Deployment); default: the node's name. */
  readonly group?: string;
  /** Default 1. Replicas of a node that share a consumer group split its work. */
  readonly replicas?: number;
  /** When it dies for good (its restart policy exhausted), the whole program fails. */
  readonly critical?: boolean;
  /** The program completes when every `terminal` node has completed. */
  readonly terminal?: boolean;
  /** Nodes that must complete before this one starts (such as an ingest job). */
  readonly after?: readonly string[];
  /** Default: never restart. */
  readonly restart?: RestartPolicy;
  /** Handles it reads or calls, and handles it writes or serves: the edges of the program graph. */
  readonly reads?: readonly Handle[];
  readonly writes?: readonly Handle[];
  readonly run: NodeRun;
}

export interface ProgramNode extends Required<Omit<NodeDefinition, "reads" | "writes" | "after">> {
  readonly after: readonly string[];
  readonly reads: readonly Handle[];
  readonly writes: readonly Handle[];
}

export interface Program {
  readonly name: string;
  readonly nodes: readonly ProgramNode[];
}

/**
 * A program file's default export: builds the program from its configuration. Every process that
 * runs one of its nodes calls it with the same configuration, so it must be deterministic.
 */
export type ProgramFactory = (config: ProgramConfig) => Program | Promise<Program>;
export type ProgramConfig = Readonly<Record<string, string | number | boolean>>;

const NAME = /^[a-z][a-z0-9-]*$/;

export function program(name: string, nodes: readonly NodeDefinition[]): Program {
  const problem = (message: string) => new Error(`program ${JSON.stringify(name)}: ${message}`);
  if (!NAME.test(name)) throw problem(`its name must match ${NAME}`);
  if (nodes.length === 0) throw problem("it has no nodes");
  const resolved = nodes.map((n): ProgramNode => {
    if (!NAME.test(n.name)) throw problem(`node name ${JSON.stringify(n.name)} must match ${NAME}`);
    if (typeof n.run !== "function") throw problem(`node ${n.name}: run must be a function of the node's context; write it with task(async (ctx, signal) => ...) or daemon(async (ctx) => ...)`);
    const replicas = n.replicas ?? 1;
    if (!(Number.isInteger(replicas) && replicas >= 1)) throw problem(`node ${n.name}: replicas must be an integer ≥ 1, got ${n.replicas}`);
    const restart = n.restart ?? never;
    if (restart.kind === "on-failure") {
      for (const key of ["backoffMs", "maxBackoffMs", "maxRestarts"] as const) {
        const v = restart[key];
        if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw problem(`node ${n.name}: restart.${key} must be an integer ≥ 0, got ${v}`);
      }
    }
    return { name: n.name, group: n.group ?? n.name, replicas, critical: n.critical ?? false, terminal: n.terminal ?? false, after: n.after ?? [], restart, reads: n.reads ?? [], writes: n.writes ?? [], run: n.run };
  });
  const names = new Set<string>();
  for (const n of resolved) {
    if (names.has(n.name)) throw problem(`two nodes are named ${n.name}`);
    names.add(n.name);
  }
  for (const n of resolved) {
    for (const dep of n.after) if (!names.has(dep)) throw problem(`node ${n.name} runs after ${JSON.stringify(dep)}, which is not a node`);
  }
  const groupReplicas = new Map<string, number>();
  for (const n of resolved) {
    const seen = groupReplicas.get(n.group);
    if (seen !== undefined && seen !== n.replicas) throw problem(`group ${n.group} mixes replica counts (${seen} and ${n.replicas}); a group deploys as one unit`);
    groupReplicas.set(n.group, n.replicas);
  }
  assertAcyclic(resolved, problem);
  return { name, nodes: resolved };
}

function assertAcyclic(nodes: readonly ProgramNode[], problem: (m: string) => Error): void {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") throw problem(`"after" has a cycle: ${[...path, name].join(" → ")}`);
    state.set(name, "visiting");
    for (const dep of byName.get(name)!.after) visit(dep, [...path, name]);
    state.set(name, "done");
  };
  for (const n of nodes) visit(n.name, []);
}

/** The program's nodes by group, groups in the order their first node appears. */
export function nodeGroups(program: Program): Map<string, ProgramNode[]> {
  const groups = new Map<string, ProgramNode[]>();
  for (const n of program.nodes) groups.set(n.group, [...(groups.get(n.group) ?? []), n]);
  return groups;
}

export function findNode(program: Program, name: string): ProgramNode {
  const node = program.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`program ${program.name} has no node ${JSON.stringify(name)} (it has ${program.nodes.map((n) => n.name).join(", ")})`);
  return node;
}
