/** A request put on a connection: resolves `handedOver` once it is queued there, `response` with its answer. */
export interface Submitted<T> {
  readonly handedOver: Promise<void>;
  readonly response: Promise<T>;
}

interface Lane {
  /** Settles when the latest write has put all its requests on the connection. */
  tail: Promise<void>;
  readonly inFlight: Set<Promise<unknown>>;
}

/**
 * Orders the writes to each partition: their requests go out in call order. Ordinary writes are
 * pipelined (a write may go out while earlier ones await their acknowledgement) since waiting
 * for each round trip halves throughput. An exclusive write (a chunked value) first waits for
 * every earlier request to be answered and sends each request only after the previous one
 * succeeded, so that no other record and no retry can land between its chunks.
 *
 * As with any Kafka producer that is not idempotent and has several requests in flight, a
 * retried request can land after a later one.
 */
export class PartitionLanes {
  private readonly lanes = new Map<string, Lane>();

  async write<T>(key: string, requests: readonly (() => Submitted<T>)[], exclusive: boolean): Promise<T[]> {
    let lane = this.lanes.get(key);
    if (lane === undefined) this.lanes.set(key, (lane = { tail: Promise.resolve(), inFlight: new Set() }));
    const previous = lane.tail;
    let release!: () => void;
    const tail = new Promise<void>((resolve) => (release = resolve));
    lane.tail = tail;
    const responses: Promise<T>[] = [];
    try {
      await previous;
      if (exclusive) await Promise.allSettled(lane.inFlight);
      for (const submit of requests) {
        const { handedOver, response } = submit();
        responses.push(response);
        const inFlight = lane.inFlight;
        inFlight.add(response);
        // Also marks the rejection as handled if this write stops before awaiting it.
        response.then(
          () => inFlight.delete(response),
          () => inFlight.delete(response),
        );
        await (exclusive ? response : Promise.race([handedOver, response]));
      }
    } finally {
      release();
    }
    const results = await Promise.all(responses);
    if (this.lanes.get(key) === lane && lane.tail === tail && lane.inFlight.size === 0) this.lanes.delete(key);
    return results;
  }
}
