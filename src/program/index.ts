/** Programs: the Launchpad model on effect. */
export { program, findNode, never, onFailure, type NodeDefinition, type NodeRun, type Program, type ProgramConfig, type ProgramFactory, type ProgramNode, type RestartPolicy } from "./program.ts";
export { bank, service, topic, handleTopic, type BankHandle, type Handle, type ServiceApi, type ServiceHandle, type TopicHandle } from "./handles.ts";
export type { NodeContext } from "./context.ts";
export { daemon, settled, task, type Daemon } from "./nodes.ts";
export { launch, LAUNCHERS, type LaunchOptions, type LauncherKind, type ProgramOutcome, type RunningProgram } from "./launch.ts";
export { readStatus, StatusReader, statusTopic, type ReplicaState, type ReplicaStatus } from "./status.ts";
export { rpcClient, serveRpc, type RpcClient } from "./rpc.ts";
