import type { Log } from "../log/types.ts";
import { readTopic } from "../log/read-all.ts";
import { decodeEnvelope } from "./codec.ts";
import { ensureDeadLetterTopic } from "../schema/dead-letter.ts";
import { checkNamespace } from "../schema/namespace.ts";

/** The two topics of a bank: the compacted latest value per key, and every version ever written. */
export interface BankTopics {
  /** `<namespace>.kb.<name>`, compacted: key → latest value. */
  readonly bank: string;
  /** `<namespace>.kb.<name>.history`, append-only and kept forever: what exact replay reads. */
  readonly history: string;
}

const NAME = /^[A-Za-z0-9_-]+$/;

export function bankTopics(namespace: string, name: string): BankTopics {
  if (!NAME.test(name)) throw new Error(`bank name ${JSON.stringify(name)} must be letters, digits, '_' or '-'`);
  return { bank: `${checkNamespace(namespace)}.kb.${name}`, history: `${namespace}.kb.${name}.history` };
}

/** The bank's own name in its topic name `<namespace>.kb.<bank>` (bank names hold no dots). */
export const bankNameOf = (bankTopic: string): string => bankTopic.slice(bankTopic.lastIndexOf(".") + 1);

/**
 * Creates a bank's topics (and the namespace's dead-letter topic) with `partitions` if missing, or
 * opens the existing ones as they are; returns the partition count.
 */
export async function ensureBankTopics(log: Log, topics: BankTopics, partitions = 4): Promise<number> {
  const existing = new Set(await log.listTopics());
  if (!existing.has(topics.bank)) await log.createTopic(topics.bank, { partitions, compacted: true });
  if (!existing.has(topics.history)) await log.createTopic(topics.history, { partitions, compacted: false, retentionMs: null });
  await ensureDeadLetterTopic(log, topics.bank);
  const [bank, history] = await Promise.all([log.describeTopic(topics.bank), log.describeTopic(topics.history)]);
  if (bank.partitions.length !== history.partitions.length) {
    throw new Error(`bank topics disagree: ${topics.bank} has ${bank.partitions.length} partitions, ${topics.history} has ${history.partitions.length}`);
  }
  return bank.partitions.length;
}

/** What a bank holds, from its first decodable version: vectors or neighbour lists (undefined while it holds neither). */
export async function bankValues(log: Log, topics: BankTopics): Promise<"vector" | "neighbours" | undefined> {
  for await (const record of readTopic(log, topics.bank)) {
    try {
      const { kind } = decodeEnvelope(record.value);
      if (kind !== "deleted") return kind;
    } catch {
      // Not a bank record: it says nothing of what the bank holds.
    }
  }
  return undefined;
}
