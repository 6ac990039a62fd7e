/**
 * Reads the original Planetoid files (`ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}`) with no
 * Python. A missing `allx` is tolerated and reported in `missingFeatures`; any other missing file
 * is an error naming its path.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { assemblePlanetoid } from "./assemble.ts";
import { parseIndexFile, toAdjacency, toCsr, toInt32Matrix } from "./decode.ts";
import { loadPickle } from "./pickle.ts";
import { PLANETOID_NAMES } from "./types.ts";
import type { PlanetoidGraph, PlanetoidName } from "./types.ts";

export type { PlanetoidGraph, PlanetoidName } from "./types.ts";

export async function readPlanetoid(dir: string, name: PlanetoidName): Promise<PlanetoidGraph> {
  if (!PLANETOID_NAMES.includes(name)) throw new Error(`unknown Planetoid dataset ${JSON.stringify(name)} (expected ${PLANETOID_NAMES.join(", ")})`);
  const path = (part: string) => join(dir, `ind.${name}.${part}`);
  const required = async (part: string) => {
    const bytes = await readOptional(path(part));
    if (bytes === undefined) throw new Error(`Planetoid ${name}: required file ${path(part)} is missing`);
    return bytes;
  };
  const pickle = async (part: string) => loadPickle(await required(part), path(part));

  const [x, y, tx, ty, allxBytes, ally, graph, testIndex] = await Promise.all([
    pickle("x").then((v) => toCsr(v, path("x"))),
    pickle("y").then((v) => toInt32Matrix(v, path("y"))),
    pickle("tx").then((v) => toCsr(v, path("tx"))),
    pickle("ty").then((v) => toInt32Matrix(v, path("ty"))),
    readOptional(path("allx")),
    pickle("ally").then((v) => toInt32Matrix(v, path("ally"))),
    pickle("graph").then((v) => toAdjacency(v, path("graph"))),
    required("test.index").then((bytes) => parseIndexFile(bytes.toString("latin1"), path("test.index"))),
  ]);
  const allx = allxBytes === undefined ? undefined : toCsr(loadPickle(allxBytes, path("allx")), path("allx"));
  return assemblePlanetoid({ name, x, y, tx, ty, allx, allxPath: path("allx"), ally, graph, testIndex });
}

async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
