/**
 * The maker runtime: runs a Maker as a member of its consumer group. Ownership is by partition of
 * `<namespace>.graph.nodes`, so two maker processes split the keys; the output bank has the same
 * partitions, so each bank partition has one writer. A cycle finds the owned keys that are stale
 * (older than the maker's target step, or touched by a graph change), computes them in batches,
 * writes them, and only then commits. What is already in the output bank at the target step is
 * never computed again, so a restarted maker resumes where the last one stopped.
 */
import { NeighbourBankView } from "../bank/neighbour-view.ts";
import { VectorBankView } from "../bank/vector-view.ts";
import type { BankView } from "../bank/view.ts";
import { BankWriter } from "../bank/writer.ts";
import { partitionForKey } from "../log/partitioner.ts";
import { readPartition } from "../log/read-all.ts";
import type { GroupConsumer, Log } from "../log/types.ts";
import { decodeEdge, decodeId } from "../schema/graph-records.ts";
import { graphTopics } from "../schema/graph-topics.ts";
import { GraphStore } from "../../graph/store/graph-store.ts";
import type { Maker, MakerOutput } from "./maker.ts";
import { MakerProgress, type PartitionProgress } from "./progress.ts";

export interface MakerRunOptions {
  /** Keys per compute call (default 4,096). */
  readonly batchSize?: number;
  /** How long a cycle waits for new input before looking again (default 200 ms). */
  readonly pollWaitMs?: number;
  /** Default 30 s: a compute call blocks the event loop, so heartbeats can be late. */
  readonly sessionTimeoutMs?: number;
  /** Called after each batch of keys is written to the bank. */
  readonly onBatch?: (stats: MakerStats) => void;
}

export interface MakerStats {
  readonly maker: string;
  /** The node partitions this member owns. */
  readonly partitions: readonly number[];
  readonly target: number | undefined;
  /** Owned keys still stale after the last cycle (0 when caught up). */
  readonly stale: number;
  readonly computed: number;
  /** Keys computed per second over the last cycle that computed any. */
  readonly keysPerSecond: number;
  readonly cycles: number;
  /** The output bank's oldest step, and records it has not applied yet. */
  readonly outputMinStep: number;
  readonly outputLag: number;
}

export interface RunningMaker {
  stats(): MakerStats;
  /** Resolves after the cycle in which the output reached `step` for every owned key. */
  caughtUp(step: number, timeoutMs?: number): Promise<void>;
  /** Finishes the cycle in progress, commits, leaves the group. */
  stop(): Promise<void>;
  /** Settles when the maker stops; rejects if it failed. */
  readonly done: Promise<void>;
}

const enc = new TextEncoder();

export async function startMaker(log: Log, namespace: string, maker: Maker, options: MakerRunOptions = {}): Promise<RunningMaker> {
  const topics = graphTopics(namespace);
  const graph = await GraphStore.open(log, namespace);
  const nodePartitions = (await log.describeTopic(topics.nodes)).partitions.length;
  const writer = await BankWriter.open(log, namespace, maker.bank, { partitions: nodePartitions });
  if (writer.partitions !== nodePartitions) throw new Error(`bank ${maker.bank} has ${writer.partitions} partitions but ${topics.nodes} has ${nodePartitions}: one writer per bank partition needs them equal`);
  const output: BankView = maker.outputKind === "vector" ? await VectorBankView.open(log, namespace, maker.bank, { follow: false }) : await NeighbourBankView.open(log, namespace, maker.bank, { follow: false });
  const progress = await MakerProgress.open(log, namespace, maker.name);
  const consumer = await log.consumer({ group: `${namespace}.makers.${maker.name}`, topics: [topics.nodes], sessionTimeoutMs: options.sessionTimeoutMs ?? 30_000 });
  await maker.start({ log, namespace, graph, output });

  const stop = new AbortController();
  let graphFailure: unknown;
  const following = graph.follow(stop.signal).catch((error: unknown) => {
    graphFailure = error;
    stop.abort();
  });
  const cycle = new MakerCycle(log, namespace, maker, graph, output, writer, progress, consumer, nodePartitions, options);
  const done = (async () => {
    try {
      while (!stop.signal.aborted) {
        try {
          await cycle.run(stop.signal);
        } catch (error) {
          if (stop.signal.aborted) break; // a read cut short by stop()
          throw error;
        }
      }
    } finally {
      stop.abort();
      await Promise.allSettled([following, consumer.close(), output.close(), maker.close()]);
    }
    if (graphFailure !== undefined) throw graphFailure;
  })();
  return {
    stats: () => cycle.stats(),
    caughtUp: (step, timeoutMs = 60_000) => cycle.caughtUp(step, timeoutMs, done),
    stop: async () => {
      stop.abort();
      await done;
    },
    done,
  };
}

class MakerCycle {
  private readonly dirty = new Set<string>();
  private graphVersion = 0;
  private owned = new Set<number>();
  private target: number | undefined;
  private stale = 0;
  private computed = 0;
  private keysPerSecond = 0;
  private cycles = 0;
  private listeners: Array<() => void> = [];
  /** The target, graph version and partitions of the last complete pass (see mayBeStale). */
  private settledPass: string | undefined;
  private partitionOf = new Int32Array(0);

  constructor(
    private readonly log: Log,
    private readonly namespace: string,
    private readonly maker: Maker,
    private readonly graph: GraphStore,
    private readonly output: BankView,
    private readonly writer: BankWriter,
    private readonly progress: MakerProgress,
    private readonly consumer: GroupConsumer,
    private readonly partitions: number,
    private readonly options: MakerRunOptions,
  ) {}

  stats(): MakerStats {
    return {
      maker: this.maker.name,
      partitions: [...this.owned].sort((a, b) => a - b),
      target: this.target,
      stale: this.stale,
      computed: this.computed,
      keysPerSecond: this.keysPerSecond,
      cycles: this.cycles,
      outputMinStep: this.output.version().minStep,
      outputLag: this.output.lag(),
    };
  }

  caughtUp(step: number, timeoutMs: number, done: Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`maker ${this.maker.name}: not caught up with step ${step} after ${timeoutMs} ms (${JSON.stringify(this.stats())})`)), timeoutMs);
      const check = () => {
        if (this.target !== undefined && this.target >= step && this.stale === 0 && this.cycles > 0) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((l) => l !== check);
          resolve();
        }
      };
      done.then(() => reject(new Error(`maker ${this.maker.name} stopped before catching up with step ${step}`)), reject).finally(() => clearTimeout(timer));
      this.listeners.push(check);
      check();
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.maker.poll(this.options.pollWaitMs ?? 200, signal);
    if (signal.aborted) return;
    for (const batch of await this.consumer.poll({ maxRecords: 50_000 })) {
      for (const record of batch.records) {
        const id = decodeId(record.key);
        if (id.ok) this.dirty.add(id.value);
      }
    }
    await this.graph.catchUp();
    await this.takeOwnership();
    this.markGraphChanges();
    this.target = this.maker.target();
    if (this.target !== undefined) {
      // What other members (or this maker's previous life) wrote counts as done.
      await this.output.catchUp();
      if (this.mayBeStale(this.target)) await this.computeStale(this.target, signal);
    }
    await this.consumer.commit();
    this.cycles++;
    for (const listener of [...this.listeners]) listener();
  }

  /** Records partitions gained since the last cycle, and the keys edges written since their last owner finished touch. */
  private async takeOwnership(): Promise<void> {
    const nodesTopic = graphTopics(this.namespace).nodes;
    const now = new Set((await this.consumer.assignment()).filter((tp) => tp.topic === nodesTopic).map((tp) => tp.partition));
    const gained = [...now].filter((p) => !this.owned.has(p));
    this.owned = now;
    if (gained.length === 0) return;
    // A previous owner may have died between a version's history copy and its bank copy.
    for (const p of gained) await this.writer.rollForward(p);
    const recorded = await this.progress.read();
    const edgesNow = this.edgePositions();
    const touched = new Set<string>();
    for (const p of gained) {
      const from = recorded.get(p)?.edges;
      if (!from) continue;
      for (const id of await this.edgeEndpointsBetween(from, edgesNow)) touched.add(id);
    }
    for (const id of this.withinHops(touched)) this.dirty.add(id);
  }

  private markGraphChanges(): void {
    if (this.maker.hops === null) {
      this.graphVersion = this.graph.version;
      return;
    }
    const changed = this.graph.changedSince(this.graphVersion);
    this.graphVersion = this.graph.version;
    for (const id of this.withinHops(changed)) this.dirty.add(id);
  }

  /**
   * Whether a pass over the owned keys could find work: not when the last complete pass was for the
   * same target, graph, partitions and output bank position (someone else writing the bank, such as
   * a previous owner finishing late, moves it) and nothing has been marked dirty since. The pass is
   * O(nodes), so an idle maker of a large graph must not repeat it every poll.
   */
  private mayBeStale(target: number): boolean {
    return this.dirty.size > 0 || this.passKey(target) !== this.settledPass;
  }

  private passKey(target: number): string {
    return `${target}/${this.graph.version}/${[...this.owned].sort((a, b) => a - b).join(",")}/${this.output.version().position.offsets.join(",")}`;
  }

  private async computeStale(target: number, signal: AbortSignal): Promise<void> {
    const stale: string[] = [];
    const deletes: string[] = [];
    const graph = this.graph;
    for (let index = 0; index < graph.numNodes; index++) {
      if (!this.owned.has(this.partitionOfIndex(index))) continue;
      const id = graph.idOf(index);
      const alive = graph.isAlive(index) && (this.maker.covers?.(id) ?? true);
      if (!alive) {
        if (this.output.stepOf(id) >= 0) deletes.push(id);
      } else if (this.output.stepOf(id) < target || this.dirty.has(id)) stale.push(id);
    }
    this.stale = stale.length + deletes.length;
    const started = performance.now();
    const batchSize = this.options.batchSize ?? 4_096;
    for (let at = 0; at < stale.length && !signal.aborted; at += batchSize) {
      const chunk = stale.slice(at, at + batchSize);
      await this.write(await this.maker.compute(chunk, target));
      this.computed += chunk.length;
      this.stale -= chunk.length;
      this.options.onBatch?.(this.stats());
    }
    if (deletes.length > 0 && !signal.aborted) {
      await this.writer.delete(deletes);
      this.stale -= deletes.length;
    }
    if (signal.aborted) return;
    if (stale.length > 0) this.keysPerSecond = stale.length / ((performance.now() - started) / 1000);
    this.dirty.clear();
    await this.output.catchUp();
    await this.progress.write(this.owned, { edges: this.edgePositions() } satisfies PartitionProgress);
    // Taken after reading back its own writes, so that only someone else's moves the position again.
    this.settledPass = this.passKey(target);
  }

  private async write(out: MakerOutput): Promise<void> {
    if (out.vectors?.length) await this.writer.upsertVectors(out.vectors, this.target!);
    if (out.neighbours?.length) await this.writer.upsertNeighbours(out.neighbours, this.target!);
    if (out.deletes?.length) await this.writer.delete(out.deletes);
  }

  /** The node partition of the node at `index`, hashed once per node. */
  private partitionOfIndex(index: number): number {
    if (index >= this.partitionOf.length) {
      const grown = new Int32Array(Math.max(this.graph.numNodes, 2 * this.partitionOf.length)).fill(-1);
      grown.set(this.partitionOf);
      this.partitionOf = grown;
    }
    let partition = this.partitionOf[index]!;
    if (partition < 0) partition = this.partitionOf[index] = partitionForKey(enc.encode(this.graph.idOf(index)), this.partitions);
    return partition;
  }

  private edgePositions(): number[] {
    const edges = graphTopics(this.namespace).edges;
    return this.graph.positions().filter((p) => p.topic === edges).sort((a, b) => a.partition - b.partition).map((p) => p.offset);
  }

  private async edgeEndpointsBetween(from: readonly number[], to: readonly number[]): Promise<Set<string>> {
    const topic = graphTopics(this.namespace).edges;
    const ids = new Set<string>();
    for (let p = 0; p < to.length; p++) {
      for await (const record of readPartition(this.log, topic, p, from[p] ?? 0, to[p])) {
        const edge = decodeEdge(record.key, null);
        if (edge.ok) ids.add(edge.value.src).add(edge.value.dst);
      }
    }
    return ids;
  }

  /** The ids plus every node within `hops` edges of one of them. */
  private withinHops(ids: Iterable<string>): Set<string> {
    const out = new Set(ids);
    const hops = this.maker.hops ?? 0;
    if (hops === 0 || out.size === 0) return out;
    const { rowPtr, colIdx } = this.graph.snapshot();
    let frontier = [...out].map((id) => this.graph.indexOf(id)).filter((i) => i >= 0 && i < rowPtr.length - 1);
    for (let hop = 0; hop < hops && frontier.length > 0; hop++) {
      const next: number[] = [];
      for (const node of frontier) {
        for (let e = rowPtr[node]!; e < rowPtr[node + 1]!; e++) {
          const id = this.graph.idOf(colIdx[e]!);
          if (!out.has(id)) {
            out.add(id);
            next.push(colIdx[e]!);
          }
        }
      }
      frontier = next;
    }
    return out;
  }
}
