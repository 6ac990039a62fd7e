/**
 * Where a log is, as plain data that can cross to a worker thread or another process, and opening
 * it there. Free of effect's Schema (unlike `openLog`, which validates what users give it), so a
 * worker that only reopens a log it was handed starts fast.
 */
import { openEmbeddedLog, type EmbeddedLogOptions } from "./embedded/embedded-log.ts";
import type { KafkaLogOptions } from "./kafka/options.ts";
import type { Log } from "./types.ts";

/** Everything a log was opened with (`Log.location`). */
export type LogLocation = ({ readonly backend: "embedded" } & EmbeddedLogOptions) | ({ readonly backend: "kafka" } & KafkaLogOptions);

/** Opens the log at `location` again, here. */
export async function reopenLog(location: LogLocation): Promise<Log> {
  if (location.backend === "embedded") {
    const { backend: _, ...options } = location;
    return openEmbeddedLog(options);
  }
  const { backend: _, ...options } = location;
  const { openKafkaLog } = await import("./kafka/index.ts");
  return openKafkaLog(options);
}
