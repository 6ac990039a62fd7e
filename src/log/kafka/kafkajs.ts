/**
 * kafkajs, required rather than imported: a bundled worker thread hoists a package's imports to the
 * top of its bundle, so an import here loaded kafkajs (~60 ms) in every worker, Kafka log or not;
 * a `require` runs when the Kafka backend is first opened. (Requiring a CommonJS package also skips
 * the scan Node makes of it before importing it; see graph/gnn/tf-core.ts.)
 */
import { createRequire } from "node:module";
import type * as KafkaJs from "kafkajs";

export const kafkajs: typeof KafkaJs = createRequire(import.meta.url)("kafkajs");
