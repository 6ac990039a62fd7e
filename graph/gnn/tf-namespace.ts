/**
 * All of tfjs-core, with carls' gradients registered: the `tf` that graph/gnn/index.ts offers code
 * outside carls. carls' own modules import tf.ts, which lists what they use and loads core without
 * Node's scan of it for ES exports (tf-core.ts says why); importing this module pays that scan once.
 */
import "./tf.ts";

export * from "@tensorflow/tfjs-core";
