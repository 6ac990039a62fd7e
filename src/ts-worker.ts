/**
 * The source of a worker thread that runs a .ts entry. A worker's entry is not loaded through the
 * tsx hooks of its parent (node 20), so the worker starts from this bootstrap, which imports the
 * entry through tsx's own API. Use with `new Worker(tsWorkerSource(url), { eval: true })`.
 */
export function tsWorkerSource(entry: URL): string {
  const href = JSON.stringify(entry.href);
  return `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => tsx.tsImport(${href}, ${href}))`;
}
