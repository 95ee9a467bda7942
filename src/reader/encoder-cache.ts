/**
 * Encoder states of FiD passages, kept by content for the life of a run (or a server): a passage's encoding depends only
 * on its token ids (`question: {q} {passage}`, encoded on its own, padding masked), so when the same question is read
 * again with only some passages changed (a rerun in `serve` or `ask`, another reader node over the same explicit
 * passages, an ensemble), the unchanged passages are not encoded again.
 *
 * A least-recently-used map bounded in bytes; each entry holds the unmasked rows only ([tokens, d_model] float32,
 * 196 KB for 64 tokens at flan-t5-base's 768). One cache per loaded reader (its files and dtype), so states of one model
 * never serve another.
 */
export class EncoderStateCache {
  private readonly map = new Map<string, Float32Array>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes: number) {}

  /** The states of a passage (token ids joined by commas), refreshed as most recently used. */
  get(key: string): Float32Array | undefined {
    const v = this.map.get(key);
    if (!v) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, states: Float32Array): void {
    if (states.byteLength > this.maxBytes) return;
    const old = this.map.get(key);
    if (old) {
      this.bytes -= old.byteLength;
      this.map.delete(key);
    }
    this.map.set(key, states);
    this.bytes += states.byteLength;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.byteLength;
    }
  }

  get size(): number {
    return this.map.size;
  }

  get byteSize(): number {
    return this.bytes;
  }
}
