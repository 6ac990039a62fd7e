/**
 * tfjs-core with the gradients the GNN code needs registered; import tf from here, not from core.
 * The values are listed (tf-core.ts says why core is not imported): add one here to use it.
 */
import type * as Core from "@tensorflow/tfjs-core";
import "./gradients.ts";
import { core } from "./tf-core.ts";

export type * from "@tensorflow/tfjs-core";
export type Tensor<R extends Core.Rank = Core.Rank> = Core.Tensor<R>;
export type Variable<R extends Core.Rank = Core.Rank> = Core.Variable<R>;

export const {
  Tensor, Variable,
  abs, add, argMax, customGrad, dispose, engine, findBackendFactory, gather, getBackend, grad, keep, logSoftmax, matMul, mul, neg, ones, pad, randomNormal, relu, reshape,
  scalar, setBackend, slice, softmax, square, step, sum, tensor, tensor1d, tensor2d, tidy, train, transpose, util, variable, variableGrads, version_core, zeros,
} = core;
