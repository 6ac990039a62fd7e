import type { Log, LogRecord } from "../log/types.ts";

/**
 * A record that failed validation, sent to the dead-letter topic with its original key and value
 * and headers saying where it came from and why it was refused. The pipeline carries on.
 */
export interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly record: Pick<LogRecord, "key" | "value"> & Partial<Pick<LogRecord, "offset">>;
  readonly reason: string;
}

export const DEAD_LETTER_HEADERS = {
  topic: "carls.dlq.topic",
  partition: "carls.dlq.partition",
  offset: "carls.dlq.offset",
  reason: "carls.dlq.reason",
} as const;

const enc = new TextEncoder();

/** `<namespace>.dead-letters` for a topic named `<namespace>.<name>`. */
export function deadLetterTopic(topic: string): string {
  const dot = topic.indexOf(".");
  return `${dot > 0 ? topic.slice(0, dot) : topic}.dead-letters`;
}

export async function ensureDeadLetterTopic(log: Log, topic: string): Promise<string> {
  const name = deadLetterTopic(topic);
  await log.createTopic(name, { partitions: 1, compacted: false });
  return name;
}

export async function sendToDeadLetters(log: Log, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  const byTopic = new Map<string, DeadLetter[]>();
  for (const letter of letters) {
    const name = deadLetterTopic(letter.topic);
    byTopic.set(name, [...(byTopic.get(name) ?? []), letter]);
  }
  for (const [name, group] of byTopic) {
    await log.produce(
      name,
      group.map(({ topic, partition, record, reason }) => ({
        key: record.key,
        value: record.value,
        partition: 0,
        headers: {
          [DEAD_LETTER_HEADERS.topic]: enc.encode(topic),
          [DEAD_LETTER_HEADERS.partition]: enc.encode(String(partition)),
          [DEAD_LETTER_HEADERS.reason]: enc.encode(reason),
          ...(record.offset === undefined ? {} : { [DEAD_LETTER_HEADERS.offset]: enc.encode(String(record.offset)) }),
        },
      })),
    );
  }
}
