/** Splitting delimited lines (CSV or TSV): delimiter detection and simple double-quoted fields. */

export type Delimiter = "," | "\t" | ";" | " " | "auto";

/** Tab if the line has one, else comma, else semicolon, else runs of spaces. */
export function detectDelimiter(line: string): Exclude<Delimiter, "auto"> {
  if (line.includes("\t")) return "\t";
  if (line.includes(",")) return ",";
  if (line.includes(";")) return ";";
  return " ";
}

export function splitFields(line: string, delimiter: Exclude<Delimiter, "auto">): string[] {
  if (delimiter === " ") return line.trim().split(/ +/);
  if (!line.includes('"')) return line.split(delimiter).map((field) => field.trim());
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) fields.push(field.trim()), (field = "");
    else field += c;
  }
  fields.push(field.trim());
  return fields;
}

/** A finite number, or undefined for anything else (including the empty string). */
export function parseNumber(text: string): number | undefined {
  if (text === "") return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}
