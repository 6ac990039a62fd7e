export type * from "./types.ts";
export { LogError, isLogError, type LogErrorCode } from "./errors.ts";
export { COLUMNS_MAX_BYTES, columnKey, columnValue } from "./columns.ts";
export { murmur2, partitionForKey } from "./partitioner.ts";
export { openEmbeddedLog, type EmbeddedLogOptions } from "./embedded/embedded-log.ts";
export { openLog, type LogConfig } from "./open-log.ts";
export { reopenLog, type LogLocation } from "./location.ts";
export { LogService, logLayer, withLog } from "./effect.ts";
