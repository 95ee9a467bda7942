/**
 * A small least-recently-used map of promises: concurrent requests for one key share one promise, a rejected promise is
 * forgotten (the next request tries again), and beyond `capacity` the least recently used key goes.
 */
export class PromiseLru<T> {
  private readonly map = new Map<string, Promise<T>>();
  constructor(private readonly capacity: number) {}

  get(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.map.get(key);
    if (p) {
      this.map.delete(key);
      this.map.set(key, p);
      return p;
    }
    p = make();
    this.map.set(key, p);
    p.catch(() => this.map.delete(key));
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
    return p;
  }
}
