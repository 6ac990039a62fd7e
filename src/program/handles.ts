/**
 * Handles join a program's nodes. A handle names a resource in the program's namespace; it is
 * resolved (a topic name, an open bank view, an RPC client) in whichever process runs the node.
 */

/** A topic, `<namespace>.<name>`. */
export interface TopicHandle {
  readonly kind: "topic";
  readonly name: string;
}

/** A knowledge bank, `<namespace>.kb.<name>`, of vectors or of neighbour lists. */
export interface BankHandle {
  readonly kind: "bank";
  readonly name: string;
  readonly values: "vector" | "neighbours";
}

/** The methods a service node answers: each takes one JSON value and resolves to one. */
export type ServiceApi = Record<string, (argument: never) => Promise<unknown>>;

/** An RPC service that one node serves and others call. `Api` types both sides. */
export interface ServiceHandle<Api extends ServiceApi = ServiceApi> {
  readonly kind: "service";
  readonly name: string;
  /** Only carries the type. */
  readonly api?: Api;
}

export type Handle = TopicHandle | BankHandle | ServiceHandle;

export const topic = (name: string): TopicHandle => ({ kind: "topic", name });
export const bank = (name: string, values: BankHandle["values"] = "vector"): BankHandle => ({ kind: "bank", name, values });
export const service = <Api extends ServiceApi>(name: string): ServiceHandle<Api> => ({ kind: "service", name });

/** The topic a handle lives in (a service: its request topic). */
export function handleTopic(namespace: string, handle: Handle): string {
  switch (handle.kind) {
    case "topic":
      return `${namespace}.${handle.name}`;
    case "bank":
      return `${namespace}.kb.${handle.name}`;
    case "service":
      return `${namespace}.rpc.${handle.name}`;
  }
}

export const handleLabel = (handle: Handle): string => `${handle.kind} ${handle.name}`;
