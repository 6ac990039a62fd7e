/**
 * The `cluster` launcher: every node replica is its own process on any host, joined only through
 * Kafka. carls does not schedule them; it writes what an orchestrator needs: the command of every
 * replica (`commands.sh`), and Kubernetes manifests (a ConfigMap with the program's configuration
 * as environment, and a Deployment per group whose replicas are the group's).
 */
import { randomBytes } from "node:crypto";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { stringify } from "yaml";
import { parseLogUrl } from "../log/open-log.ts";
import { ENV } from "./launchers.ts";
import { nodeGroups, type Program, type ProgramConfig } from "./program.ts";

export interface EmitOptions {
  /** The program file, as the image sees it (relative to the container's working directory). */
  readonly programFile: string;
  readonly config: ProgramConfig;
  /** `kafka://host:port[,host:port]`: the only thing a cluster's nodes share. */
  readonly log: string;
  readonly namespace: string;
  /** A container image holding this project and the program file. */
  readonly image: string;
  /** Seconds between SIGTERM and SIGKILL (default 30). */
  readonly graceSeconds?: number;
}


const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** File name → content. */
export function emitCluster(program: Program, options: EmitOptions): Map<string, string> {
  if (parseLogUrl(options.log).backend !== "kafka") throw new Error(`the cluster launcher joins its nodes only through Kafka: --log must be kafka://host:port, got ${options.log}`);
  // One launch id per emit: nodes wait for predecessors that completed in this launch, not an earlier one.
  const env = { [ENV.log]: options.log, [ENV.namespace]: options.namespace, [ENV.config]: JSON.stringify(options.config), [ENV.launch]: randomBytes(6).toString("hex") };
  const files = new Map<string, string>();
  const nodeArgs = (node: string) => ["npx", "carls", "node", options.programFile, "--node", node, "--hold"];

  const commands = ["#!/bin/sh", "# One line per node replica; run each anywhere that reaches the Kafka cluster.", ...Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`)];
  for (const node of program.nodes) for (let r = 0; r < node.replicas; r++) commands.push(`${nodeArgs(node.name).map(shellQuote).join(" ")} --replica ${r} &`);
  commands.push("wait");
  files.set("commands.sh", `${commands.join("\n")}\n`);

  const labels = (extra: Record<string, string> = {}) => ({ "app.kubernetes.io/name": "carls", "app.kubernetes.io/instance": options.namespace, "carls.dev/program": program.name, ...extra });
  const configName = `${options.namespace}-config`.toLowerCase();
  const configMap = new ConfigMap({ metadata: { name: configName, labels: labels() }, data: env });
  configMap.validate();
  files.set("k8s/config.yaml", stringify(configMap.toJSON()));

  for (const [group, nodes] of nodeGroups(program)) {
    const selector = labels({ "carls.dev/group": group });
    const deployment = new Deployment({
      metadata: { name: `${options.namespace}-${group}`.toLowerCase(), labels: selector },
      spec: {
        replicas: nodes[0]!.replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: selector },
          spec: {
            terminationGracePeriodSeconds: options.graceSeconds ?? 30,
            containers: nodes.map((n) => ({ name: n.name, image: options.image, command: nodeArgs(n.name), envFrom: [{ configMapRef: { name: configName } }] })),
          },
        },
      },
    });
    deployment.validate();
    files.set(`k8s/${group}.yaml`, stringify(deployment.toJSON()));
  }
  return files;
}
