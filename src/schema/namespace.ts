/**
 * A namespace prefixes every topic of a program (`<namespace>.graph.nodes`, `<namespace>.kb.<bank>`,
 * ...), so it takes Kafka's topic-name characters, leaves room for the longest suffix, and does not
 * start with a dot (an empty namespace made topics named `.graph.nodes`).
 */
const NAMESPACE = /^[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,179}$/;

/** `namespace` when it can prefix topic names; else an error naming it. */
export function checkNamespace(namespace: string): string {
  if (typeof namespace !== "string" || !NAMESPACE.test(namespace)) {
    throw new Error(`namespace ${JSON.stringify(namespace)} must be 1-180 characters of [a-zA-Z0-9._-], not starting with "."`);
  }
  return namespace;
}
