/** The knowledge bank: compacted `kb.*` topics written by makers, materialised in memory where they are read. */
export { bankTopics, ensureBankTopics, type BankTopics } from "./topics.ts";
export { decodeEnvelope, encodeEnvelope, BankRecordError, type Envelope, type PayloadKind } from "./codec.ts";
export { BankWriter, type BankWriterOptions, type NeighbourUpsert, type VectorUpsert } from "./writer.ts";
export { BankView, type BankVersion } from "./view.ts";
export { VectorBankView, type VectorBankViewOptions } from "./vector-view.ts";
export { NeighbourBankView, type NeighbourBankViewOptions } from "./neighbour-view.ts";
export type { LookupOptions, LookupResult, LookupResultWithSteps, MissingPolicy } from "./vector-store.ts";
export type { AwaitOptions, BankPosition } from "./follower.ts";
export { BankError, bankWriter, neighbourBank, vectorBank, type BankViewEffects, type BankWriterEffects, type NeighbourBankEffects, type VectorBankEffects } from "./effect.ts";
