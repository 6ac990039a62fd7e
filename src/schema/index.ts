export * from "./vector.ts";
export * from "./graph-records.ts";
export * from "./dead-letter.ts";
export * from "./graph-topics.ts";
