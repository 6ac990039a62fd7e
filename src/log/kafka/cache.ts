/** Caches loaded values by key; a failed load is not kept, so the next `get` loads again. */
export class LoadingCache<V> {
  private readonly entries = new Map<string, Promise<V>>();

  constructor(private readonly load: (key: string) => Promise<V>) {}

  get(key: string): Promise<V> {
    const cached = this.entries.get(key);
    if (cached !== undefined) return cached;
    const loading = this.load(key);
    this.entries.set(key, loading);
    loading.catch(() => {
      if (this.entries.get(key) === loading) this.entries.delete(key);
    });
    return loading;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
