/** Predictions (node id -> class and scores) to JSON lines, CSV, or a topic keyed by node id. */
import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import type { Log, ProduceRecord } from "../src/log/types.ts";

export interface Prediction {
  readonly id: string;
  readonly class: number;
  /** Per-class scores (probabilities or logits). */
  readonly scores?: ArrayLike<number>;
}

export type PredictionSink =
  | { readonly kind: "jsonl"; readonly path: string }
  | { readonly kind: "csv"; readonly path: string; readonly delimiter?: string }
  /** Values are JSON `{class, scores?}`; create the topic beforehand (compacted, typically). */
  | { readonly kind: "topic"; readonly log: Log; readonly topic: string; readonly batchSize?: number };

export async function writePredictions(predictions: Iterable<Prediction> | AsyncIterable<Prediction>, sink: PredictionSink): Promise<number> {
  return sink.kind === "topic" ? toTopic(predictions, sink.log, sink.topic, sink.batchSize ?? 5000) : toFile(predictions, sink);
}

const scoresOf = (p: Prediction) => (p.scores === undefined ? [] : Array.from(p.scores));

async function toFile(predictions: Iterable<Prediction> | AsyncIterable<Prediction>, sink: { kind: "jsonl" | "csv"; path: string; delimiter?: string }): Promise<number> {
  const out = createWriteStream(sink.path);
  try {
    return await writeLines(predictions, sink, out);
  } catch (error) {
    out.destroy();
    throw new Error(`${sink.path}: ${(error as Error).message}`);
  }
}

// `once` rejects when the stream emits "error", so a failed file surfaces at the next drain or at the end.
async function writeLines(predictions: Iterable<Prediction> | AsyncIterable<Prediction>, sink: { kind: "jsonl" | "csv"; delimiter?: string }, out: WriteStream): Promise<number> {
  const sep = sink.delimiter ?? ",";
  let count = 0;
  let width: number | undefined;
  for await (const p of predictions) {
    const scores = scoresOf(p);
    let line: string;
    if (sink.kind === "jsonl") line = JSON.stringify({ id: p.id, class: p.class, ...(p.scores === undefined ? {} : { scores }) });
    else {
      if (width === undefined) {
        width = scores.length;
        await write(out, ["id", "class", ...scores.map((_, i) => `score${i}`)].join(sep) + "\n");
      }
      if (scores.length !== width) throw new Error(`prediction for ${p.id} has ${scores.length} scores, earlier ones ${width}`);
      line = [csvField(p.id, sep), p.class, ...scores].join(sep);
    }
    await write(out, line + "\n");
    count++;
  }
  out.end();
  await once(out, "finish");
  return count;
}

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, "drain");
}

const csvField = (text: string, sep: string) => (/[",\n\r]/.test(text) || text.includes(sep) ? `"${text.replaceAll('"', '""')}"` : text);

async function toTopic(predictions: Iterable<Prediction> | AsyncIterable<Prediction>, log: Log, topic: string, batchSize: number): Promise<number> {
  const enc = new TextEncoder();
  let batch: ProduceRecord[] = [];
  let count = 0;
  for await (const p of predictions) {
    batch.push({ key: enc.encode(p.id), value: enc.encode(JSON.stringify({ class: p.class, ...(p.scores === undefined ? {} : { scores: scoresOf(p) }) })) });
    count++;
    if (batch.length >= batchSize) {
      await log.produce(topic, batch);
      batch = [];
    }
  }
  if (batch.length > 0) await log.produce(topic, batch);
  return count;
}
