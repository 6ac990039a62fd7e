/**
 * Node classification on a materialised graph in one call: the glue between the graph store and
 * the tfjs models. Full batch, Kipf & Welling's protocol (Adam, early stopping when the validation
 * loss rises above its mean over the last 10 epochs), features row-normalised.
 */
import type { Model } from "./gnn/model.ts";
import * as tf from "./gnn/tf.ts";
import { adam, evaluate, trainStep, type Batch } from "./gnn/train.ts";
import { buildModel, graphInputs, type ModelKind } from "./models.ts";
import type { GraphStore } from "./store/graph-store.ts";

export interface NodeClassifierOptions {
  readonly model?: ModelKind;
  readonly hiddenDim?: number;
  readonly learningRate?: number;
  readonly maxEpochs?: number;
  readonly seed?: number;
}

export interface TrainedNodeClassifier {
  readonly model: Model<unknown>;
  readonly epochs: number;
  readonly accuracy: { readonly train: number; readonly val: number; readonly test: number };
  /** The predicted class of every live node, by node id. */
  predictions(): Map<string, number>;
  dispose(): void;
}

export function trainNodeClassifier(store: GraphStore, options: NodeClassifierOptions = {}): TrainedNodeClassifier {
  checkOptions(options);
  const { dim } = store.features();
  const labels = store.labels();
  const classes = labels.reduce((max, label) => Math.max(max, label), -1) + 1;
  if (dim === 0 || classes < 2) throw new Error(`trainNodeClassifier: the graph needs node features and at least two labelled classes (features ${dim}, classes ${classes})`);
  const masks = store.masks();
  if (!masks.train.includes(1)) throw new Error("trainNodeClassifier: no node is in the train split");

  const seed = options.seed ?? 0;
  const kind = options.model ?? "sage";
  const built = graphInputs(store, kind);
  const model = buildModel({ kind, inputDim: dim, hiddenDim: options.hiddenDim ?? 16, classes, seed });
  return fit(store, model, built.inputs, options, () => built.dispose());
}

function checkOptions({ model, maxEpochs, learningRate }: NodeClassifierOptions): void {
  if (model !== undefined && model !== "sage" && model !== "gcn" && model !== "mlp") throw new Error(`trainNodeClassifier: model must be "sage", "gcn" or "mlp", got ${JSON.stringify(model)}`);
  if (maxEpochs !== undefined && !(Number.isInteger(maxEpochs) && maxEpochs >= 1)) throw new Error(`trainNodeClassifier: maxEpochs must be an integer ≥ 1, got ${maxEpochs}`);
  if (learningRate !== undefined && !(Number.isFinite(learningRate) && learningRate > 0)) throw new Error(`trainNodeClassifier: learningRate must be a finite number > 0, got ${learningRate}`);
}

function fit<I>(store: GraphStore, model: Model<I>, inputs: I, options: NodeClassifierOptions, release: () => void): TrainedNodeClassifier {
  const labels = store.labels();
  const masks = store.masks();
  const batch = (mask: Uint8Array): Batch<I> => ({ inputs, labels, mask: Float32Array.from(mask) });
  const [train, val, test] = [batch(masks.train), batch(masks.val), batch(masks.test)];
  const optimizer = adam(options.learningRate ?? 0.01);
  const valLosses: number[] = [];
  let epochs = 0;
  while (epochs < (options.maxEpochs ?? 200)) {
    trainStep(model, optimizer, train);
    epochs++;
    const loss = evaluate(model, val).loss;
    const window = valLosses.slice(-10);
    valLosses.push(loss);
    if (epochs > 10 && loss > window.reduce((a, b) => a + b, 0) / window.length) break;
  }
  optimizer.dispose();
  return {
    model: model as Model<unknown>,
    epochs,
    accuracy: { train: evaluate(model, train).accuracy, val: evaluate(model, val).accuracy, test: evaluate(model, test).accuracy },
    predictions() {
      const classOf = tf.tidy(() => tf.argMax(model.predict(inputs), 1)).dataSync();
      const out = new Map<string, number>();
      for (let i = 0; i < store.numNodes; i++) if (store.isAlive(i)) out.set(store.idOf(i), classOf[i]!);
      return out;
    },
    dispose() {
      model.dispose();
      release();
    },
  };
}


