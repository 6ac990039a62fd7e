/** tfjs-core with the gradients the GNN code needs registered; import tf from here, not from core. */
import "./gradients.ts";

export * from "@tensorflow/tfjs-core";
