/**
 * Run-scoped memoized resources (models, LLM clients, knowledge stores, loaded data files).
 * Concurrent requests for the same key share one promise; a failed load is forgotten so a later call can retry.
 * Nothing here is global: each run (or each library `Answerer`) owns one `Resources`.
 */
export class Resources {
  private readonly entries = new Map<string, { promise: Promise<unknown>; dispose?: (value: any) => unknown }>();

  get<T>(key: string, factory: () => Promise<T> | T, dispose?: (value: T) => unknown): Promise<T> {
    const hit = this.entries.get(key);
    if (hit) return hit.promise as Promise<T>;
    const promise = Promise.resolve().then(factory);
    const entry: { promise: Promise<unknown>; dispose?: (value: any) => unknown } = { promise };
    if (dispose) entry.dispose = dispose;
    this.entries.set(key, entry);
    promise.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return promise;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Dispose every resource that loaded, in reverse order of creation. Errors are collected, not thrown early. */
  async disposeAll(): Promise<void> {
    const all = [...this.entries.values()].reverse();
    this.entries.clear();
    const errors: unknown[] = [];
    for (const e of all) {
      if (!e.dispose) continue;
      try {
        const value = await e.promise.catch(() => undefined);
        if (value !== undefined) await e.dispose(value);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw new AggregateError(errors, 'disposing resources failed');
  }
}
