/** Turning loosely typed input values (CSV text, JSON, XML attributes) into node and edge fields. */
import { denseVector, type DenseVector, type Split } from "../../src/schema/index.ts";
import { badRow, type BadRow } from "../events.ts";

export type Field<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const ok = <T>(value: T): Field<T> => ({ ok: true, value });
const fail = (reason: string): Field<never> => ({ ok: false, reason });
const show = (value: unknown) => JSON.stringify(value) ?? String(value);

/** A string, or an integer number, as a node id. */
export function toId(value: unknown, what = "id"): Field<string> {
  if (typeof value === "string" && value.length > 0 && !value.includes("\u0000")) return ok(value);
  if (typeof value === "number" && Number.isSafeInteger(value)) return ok(String(value));
  return fail(`${what} ${show(value)} is not a node id (a non-empty string or an integer)`);
}

/** A class index; empty, null and -1 mean unlabelled. */
export function toLabel(value: unknown): Field<number | null> {
  if (value === undefined || value === null || value === "" || value === -1 || value === "-1") return ok(null);
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n === "number" && Number.isInteger(n) && n >= 0) return ok(n);
  return fail(`label ${show(value)} is not a non-negative integer`);
}

const SPLITS: Record<string, Split> = { train: "train", val: "val", valid: "val", validation: "val", test: "test" };

export function toSplit(value: unknown): Field<Split | null> {
  if (value === undefined || value === null || value === "") return ok(null);
  const split = typeof value === "string" ? SPLITS[value.toLowerCase()] : undefined;
  return split ? ok(split) : fail(`split ${show(value)} is not train, val or test`);
}

export function toWeight(value: unknown): Field<number | undefined> {
  if (value === undefined || value === null || value === "") return ok(undefined);
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? ok(n) : fail(`weight ${show(value)} is not a finite number`);
}

/** Features from a number array, or text of numbers separated by spaces, commas or semicolons (brackets allowed). */
export function toFeatures(value: unknown): Field<DenseVector | undefined> {
  if (value === undefined || value === null || value === "") return ok(undefined);
  const items = typeof value === "string" ? value.replace(/^\s*\[|\]\s*$/g, "").trim().split(/[\s,;]+/) : value;
  if (!Array.isArray(items)) return fail(`features ${show(value)} are not a list of numbers`);
  const values = new Float32Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const n = typeof items[i] === "string" && items[i] !== "" ? Number(items[i]) : items[i];
    if (typeof n !== "number" || !Number.isFinite(n)) return fail(`feature ${i} (${show(items[i])}) is not a finite number`);
    values[i] = n;
  }
  return ok(denseVector(values));
}

/** The bad row for the first failed field (call it when at least one failed). */
export function firstBad(fields: readonly Field<unknown>[], where: string, raw: string): BadRow {
  const failed = fields.find((f): f is Extract<Field<unknown>, { ok: false }> => !f.ok);
  return badRow(where, failed?.reason ?? "invalid row", raw);
}
