/**
 * The carls command line. Each command loads its modules when it runs (`--help` and `carls runs`
 * need neither tfjs nor the launchers).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { Command, Option } from "commander";
import { ENV, LAUNCHERS, type LauncherKind } from "../program/launchers.ts";
import { collectSetting, DEFAULT_LOG, namespaceOption, positiveInt, programConfig } from "./options.ts";

const cli = new Command("carls").description("Asynchronous representation learning on graphs, on streams").showHelpAfterError();

/** What `run` and `launch` both take: where the program's topics go, its settings, and how its nodes are launched and stopped. */
const programOptions = (command: Command) =>
  command
    .option("--log <location>", "embedded:<dir> or kafka://host:port[,host:port]", DEFAULT_LOG)
    .option("--namespace <name>", "topic prefix of this run (default: <program>-<random id>)", namespaceOption)
    .option("--set <key=value>", "a program setting (repeatable)", collectSetting)
    .option("--config-json <json>", "program settings as one JSON object (--set entries win)")
    .addOption(new Option("--launcher <kind>", "where the nodes run").choices(LAUNCHERS.filter((l) => l !== "test")).default("inline"))
    .option("--grace <ms>", "time replicas get to stop after the termination notice", positiveInt, 10_000)
    .option("--log-dir <dir>", "also write each replica's log to <dir>/<node>.<replica>.log");

interface ProgramFlags {
  log: string;
  namespace?: string;
  set?: Record<string, string>;
  configJson?: string;
  launcher: LauncherKind;
  grace: number;
  logDir?: string;
}

const run = async (file: string, flags: ProgramFlags) => {
  const { runCommand } = await import("./run.ts");
  const { code } = await runCommand({ program: resolve(file), launcher: flags.launcher, log: flags.log, ...(flags.namespace ? { namespace: flags.namespace } : {}), config: programConfig(flags.configJson, flags.set), graceMs: flags.grace, ...(flags.logDir ? { logDir: flags.logDir } : {}) });
  process.exitCode = code;
};

programOptions(cli.command("run").description("run a program file until it completes, fails or is stopped (SIGINT/SIGTERM)").argument("<program>", "a file whose default export builds the program")).action(run);

programOptions(cli.command("launch").description("run a program (as `run`), or draw its graph (--graph), or write what a cluster needs to run it (--emit)").argument("<program>"))
  .option("--graph [file.svg]", "write the node/handle graph as SVG (default <program>.svg) and print it as Mermaid")
  .option("--emit <dir>", "the cluster launcher: write commands.sh and Kubernetes manifests (needs --log kafka://...)")
  .option("--image <image>", "container image for --emit", "carls:latest")
  .action(async (file: string, flags: ProgramFlags & { graph?: string | true; emit?: string; image: string }) => {
    if (flags.graph === undefined && flags.emit === undefined) return run(file, flags);
    const config = programConfig(flags.configJson, flags.set);
    const { loadProgram } = await import("../program/load.ts");
    const program = await loadProgram(file, config);
    if (flags.graph !== undefined) {
      const { toMermaid, toSvg } = await import("../program/graph.ts");
      const svgPath = flags.graph === true ? `${program.name}.svg` : flags.graph;
      writeFileSync(svgPath, await toSvg(program));
      process.stdout.write(toMermaid(program));
      process.stderr.write(`carls: wrote ${svgPath}\n`);
    }
    if (flags.emit !== undefined) {
      const { emitCluster } = await import("../program/emit.ts");
      const files = emitCluster(program, { programFile: file, config, log: flags.log, namespace: flags.namespace ?? program.name, image: flags.image, graceSeconds: Math.ceil(flags.grace / 1000) });
      const present = existsSync(flags.emit) ? readdirSync(flags.emit).filter((f) => f !== "commands.sh" && f !== "k8s") : [];
      if (present.length > 0) throw new Error(`--emit ${flags.emit}: the folder holds other files (${present.slice(0, 3).join(", ")}); give an empty or new folder, or one an earlier --emit wrote`);
      rmSync(join(flags.emit, "k8s"), { recursive: true, force: true });
      for (const [name, content] of files) {
        const path = join(flags.emit, name);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, content, { mode: name.endsWith(".sh") ? 0o755 : 0o644 });
      }
      process.stderr.write(`carls: wrote ${[...files.keys()].map((f) => join(flags.emit!, f)).join(", ")}\n`);
    }
  });

cli
  .command("node")
  .description("run one replica of one node (what the cluster launcher's commands and manifests run); settings also come from $CARLS_LOG, $CARLS_NAMESPACE, $CARLS_CONFIG, $CARLS_LAUNCH")
  .argument("<program>")
  .requiredOption("--node <name>")
  .option("--replica <index>", "this replica's index (default: unknown, the host name identifies it)", (v) => Number(v))
  .option("--log <location>", "embedded:<dir> or kafka://...", process.env[ENV.log])
  .option("--namespace <name>", "", namespaceOption, process.env[ENV.namespace])
  .option("--set <key=value>", "a program setting (repeatable)", collectSetting)
  .option("--hold", "after the node completes, keep running until terminated (an orchestrator restarts exited containers)")
  .action(async (file: string, flags: { node: string; replica?: number; log?: string; namespace?: string; set?: Record<string, string>; hold?: boolean }) => {
    if (!flags.log || !flags.namespace) throw new Error("carls node needs --log and --namespace (or $CARLS_LOG and $CARLS_NAMESPACE)");
    const config = programConfig(process.env[ENV.config], flags.set);
    const { runReplicaMain } = await import("../program/replica-main.ts");
    process.exitCode = await runReplicaMain({ programFile: resolve(file), config, node: flags.node, replica: flags.replica ?? 0, instance: flags.replica !== undefined ? String(flags.replica) : hostname(), restarts: 0, log: flags.log, namespace: flags.namespace, launch: process.env[ENV.launch] ?? flags.namespace, hold: flags.hold ?? false });
  });

cli
  .command("status")
  .description("every replica of a program: state, restarts, throughput, lag")
  .requiredOption("--namespace <name>", "topic prefix", namespaceOption)
  .option("--log <location>", "embedded:<dir> or kafka://...", DEFAULT_LOG)
  .option("--watch", "refresh every second")
  .action(async (flags: { namespace: string; log: string; watch?: boolean }) => (await import("./status.ts")).statusCommand({ ...flags, watch: flags.watch ?? false }));

cli
  .command("bank")
  .description("knowledge banks")
  .command("inspect")
  .description("size, versions and lag of a bank; a key's value; its nearest neighbours")
  .argument("<bank>", "the bank's name (topic <namespace>.kb.<bank>)")
  .requiredOption("--namespace <name>", "topic prefix", namespaceOption)
  .option("--log <location>", "embedded:<dir> or kafka://...", DEFAULT_LOG)
  .option("--key <id>", "show this key's value")
  .option("--nearest <k>", "with --key: its k nearest keys by the HNSW index", positiveInt)
  .action(async (bank: string, flags: { namespace: string; log: string; key?: string; nearest?: number }) => {
    const { inspectBank } = await import("./bank.ts");
    process.stdout.write(await inspectBank({ bank, ...flags }));
  });

cli
  .command("runs")
  .description("the training runs of a namespace: state, result, and whether each can still be replayed (and what that needs)")
  .requiredOption("--namespace <name>", "topic prefix", namespaceOption)
  .option("--log <location>", "embedded:<dir> or kafka://...", DEFAULT_LOG)
  .action(async (flags: { namespace: string; log: string }) => {
    const { listRuns } = await import("./runs.ts");
    process.stdout.write(await listRuns(flags));
  });

cli
  .command("replay")
  .description("re-run a recorded trainer on exactly the inputs it saw (no makers), comparing weights, losses and metrics step by step; exit 2 on a divergence")
  .argument("<run>", "the run id (see carls runs)")
  .requiredOption("--namespace <name>", "topic prefix", namespaceOption)
  .option("--log <location>", "embedded:<dir> or kafka://...", DEFAULT_LOG)
  .option("--parallel <n>", "threads replaying segments of the run side by side, from its checkpoints (default: the machine's cores; 1: in order)", positiveInt)
  .action(async (run: string, flags: { namespace: string; log: string; parallel?: number }) => {
    const { replayCommand } = await import("./replay.ts");
    process.exitCode = (await replayCommand({ ...flags, run })).code;
  });

cli
  .command("demo")
  .description("the quickstart: the semi-supervised loop on the synthetic graph, without and with the knowledge bank, on the embedded store")
  .option("--dir <dir>", "where the embedded store goes", ".carls/demo")
  .option("--steps <n>", "training steps", positiveInt, 200)
  .action(async (flags: { dir: string; steps: number }) => {
    const { demoCommand } = await import("./demo.ts");
    process.exitCode = await demoCommand(flags);
  });

try {
  await cli.parseAsync();
} catch (error) {
  process.stderr.write(`carls: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
