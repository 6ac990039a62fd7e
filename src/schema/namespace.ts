/**
 * A namespace prefixes every topic of a program (`<namespace>.graph.nodes`, `<namespace>.kb.<bank>`,
 * ...), so it takes Kafka's topic-name characters but the dot, which ends it (dead letters go to
 * the topic named by what precedes a topic's first dot), and leaves the suffixes room under
 * Kafka's 249 (an empty namespace made topics named `.graph.nodes`).
 */
const NAMESPACE = /^[a-zA-Z0-9_-]{1,180}$/;

/** `namespace` when it can prefix topic names; else an error naming it. */
export function checkNamespace(namespace: string): string {
  if (typeof namespace !== "string" || !NAMESPACE.test(namespace)) {
    throw new Error(`namespace ${JSON.stringify(namespace)} must be 1-180 characters of [a-zA-Z0-9_-]`);
  }
  return namespace;
}
