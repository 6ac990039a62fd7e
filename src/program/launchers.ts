/**
 * The launchers a program can run under, and the environment a cluster replica reads its settings
 * from: apart from the launch code, so that the command line can offer them without loading it.
 */
export type LauncherKind = "inline" | "threads" | "processes" | "test";
export const LAUNCHERS: readonly LauncherKind[] = ["inline", "threads", "processes", "test"];

/** What `carls node` reads when its flags are absent (the cluster launcher's manifests set them). */
export const ENV = { log: "CARLS_LOG", namespace: "CARLS_NAMESPACE", config: "CARLS_CONFIG", launch: "CARLS_LAUNCH" } as const;
