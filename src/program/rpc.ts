/**
 * RPC between program nodes, through two topics, so it works wherever the nodes run (one process
 * or many hosts joined only through Kafka): callers append requests to `<namespace>.rpc.<name>`;
 * the serving node's replicas share them as one consumer group and append replies, keyed by request
 * id, to `<namespace>.rpc.<name>.replies`, which each caller follows from where it started.
 */
import { randomUUID } from "node:crypto";
import type { Log } from "../log/types.ts";
import { handleTopic, type ServiceApi, type ServiceHandle } from "./handles.ts";
import { asError } from "./nodes.ts";

interface Request {
  readonly id: string;
  readonly method: string;
  readonly argument: unknown;
}

type Reply = { readonly id: string; readonly ok: true; readonly value: unknown } | { readonly id: string; readonly ok: false; readonly error: string };

const enc = new TextEncoder();
const dec = new TextDecoder();
const repliesTopic = (requests: string) => `${requests}.replies`;

async function ensureTopics(log: Log, requests: string): Promise<void> {
  await log.createTopic(requests, { partitions: 1, compacted: false });
  await log.createTopic(repliesTopic(requests), { partitions: 1, compacted: false });
}

/** Answers calls until `signal` aborts. A method that throws sends its message back as the call's error. */
export async function serveRpc<Api extends ServiceApi>(log: Log, namespace: string, handle: ServiceHandle<Api>, api: Api, signal: AbortSignal): Promise<void> {
  const requests = handleTopic(namespace, handle);
  await ensureTopics(log, requests);
  const consumer = await log.consumer({ group: requests, topics: [requests], from: "earliest" });
  try {
    while (!signal.aborted) {
      const batches = await consumer.poll({ waitMs: 100, signal });
      const replies: Reply[] = [];
      for (const batch of batches) {
        for (const record of batch.records) {
          const request = parseRequest(record.value);
          // Not a request at all: nobody can be waiting for its answer; skip it rather than fail on it forever.
          if (!request) continue;
          const method = Object.hasOwn(api, request.method) ? api[request.method] : undefined;
          try {
            if (!method) throw new Error(`service ${handle.name} has no method ${JSON.stringify(request.method)} (it has ${Object.keys(api).join(", ")})`);
            replies.push({ id: request.id, ok: true, value: await method(request.argument as never) });
          } catch (error) {
            replies.push({ id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) });
          }
        }
      }
      if (replies.length > 0) await log.produce(repliesTopic(requests), replies.map((r) => ({ key: enc.encode(r.id), value: enc.encode(JSON.stringify(r)), partition: 0 })));
      if (batches.some((b) => b.records.length > 0)) await consumer.commit();
    }
  } finally {
    await consumer.close();
  }
}

function parseRequest(value: Uint8Array | null): Request | undefined {
  if (!value) return undefined;
  try {
    const request = JSON.parse(dec.decode(value)) as Partial<Request>;
    return typeof request.id === "string" && typeof request.method === "string" ? (request as Request) : undefined;
  } catch {
    return undefined;
  }
}

export interface RpcClient<Api extends ServiceApi> {
  /** Calls `method` and waits for its reply (default timeout 30 s). */
  call<M extends keyof Api & string>(method: M, argument: Parameters<Api[M]>[0], timeoutMs?: number): Promise<Awaited<ReturnType<Api[M]>>>;
  close(): Promise<void>;
}

export async function rpcClient<Api extends ServiceApi>(log: Log, namespace: string, handle: ServiceHandle<Api>): Promise<RpcClient<Api>> {
  const requests = handleTopic(namespace, handle);
  await ensureTopics(log, requests);
  const replies = repliesTopic(requests);
  const pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const stop = new AbortController();
  let offset = (await log.offsets(replies))[0]!.highWatermark;
  const following = (async () => {
    while (!stop.signal.aborted) {
      const result = await log.read(replies, 0, offset, { waitMs: 100, signal: stop.signal }).catch((error: unknown) => {
        if (stop.signal.aborted) return undefined;
        throw error;
      });
      if (!result) return;
      for (const record of result.records) {
        // The key is the request's id: replies to other clients are skipped unparsed.
        if (!record.key || !pending.has(dec.decode(record.key))) continue;
        const reply = JSON.parse(dec.decode(record.value!)) as Reply;
        const waiter = pending.get(reply.id);
        if (!waiter) continue;
        pending.delete(reply.id);
        if (reply.ok) waiter.resolve(reply.value);
        else waiter.reject(new Error(`${handle.name}: ${reply.error}`));
      }
      offset = result.nextOffset;
    }
  })();
  let broken: Error | undefined;
  following.catch((error: unknown) => {
    broken = asError(error);
    for (const waiter of pending.values()) waiter.reject(broken);
    pending.clear();
  });
  return {
    async call(method, argument, timeoutMs = 30_000) {
      // Its replies can no longer arrive: say why now rather than time out.
      if (broken) throw new Error(`${handle.name}.${method}: the client stopped reading replies: ${broken.message}`);
      const id = randomUUID();
      const reply = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${handle.name}.${method}: no reply within ${timeoutMs} ms (is a node serving ${requests}?)`));
        }, timeoutMs);
        pending.set(id, { resolve: (v) => (clearTimeout(timer), resolve(v)), reject: (e) => (clearTimeout(timer), reject(e)) });
      });
      try {
        await log.produce(requests, [{ key: enc.encode(id), value: enc.encode(JSON.stringify({ id, method, argument } satisfies Request)), partition: 0 }]);
      } catch (error) {
        // Settle the pending reply so that nothing is left to reject unobserved.
        pending.get(id)?.reject(asError(error));
        pending.delete(id);
        reply.catch(() => undefined);
        throw error;
      }
      return (await reply) as never;
    },
    async close() {
      stop.abort();
      await following.catch(() => {});
      for (const waiter of pending.values()) waiter.reject(new Error(`${handle.name}: client closed`));
      pending.clear();
    },
  };
}
