import PQueue from 'p-queue';

export interface GateOptions {
  concurrency: number;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/**
 * Client-side limits in front of a backend: at most `concurrency` requests in flight, `requestsPerMinute` starts per
 * minute (p-queue interval cap) and `tokensPerMinute` estimated tokens in any sliding 60 s window.
 */
export class Gate {
  private readonly queue: PQueue;
  private readonly spent: { at: number; tokens: number }[] = [];

  constructor(
    private readonly opts: GateOptions,
    private readonly now: () => number = Date.now,
    private readonly windowMs = 60_000,
  ) {
    this.queue = new PQueue({
      concurrency: opts.concurrency,
      ...(opts.requestsPerMinute ? { intervalCap: Math.max(1, Math.floor(opts.requestsPerMinute)), interval: windowMs } : {}),
    });
  }

  /** Run `fn` when the limits allow; `tokens` is the request's estimated token count (prompt + max completion). */
  run<T>(tokens: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.queue.add(
      async () => {
        await this.waitForTokens(tokens, signal);
        return fn();
      },
      signal ? { signal } : {},
    ) as Promise<T>;
  }

  get pending(): number {
    return this.queue.pending + this.queue.size;
  }

  private async waitForTokens(tokens: number, signal?: AbortSignal): Promise<void> {
    const tpm = this.opts.tokensPerMinute;
    if (!tpm) return;
    const want = Math.min(tokens, tpm);
    for (;;) {
      const t = this.now();
      while (this.spent.length && this.spent[0]!.at <= t - this.windowMs) this.spent.shift();
      const used = this.spent.reduce((s, e) => s + e.tokens, 0);
      if (used + want <= tpm) {
        this.spent.push({ at: t, tokens: want });
        return;
      }
      signal?.throwIfAborted();
      const wait = Math.max(10, this.spent[0]!.at + this.windowMs - t);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** Rough token estimate (≈4 characters per token) used only for rate limiting. */
export function estimateTokens(text: string, maxTokens: number): number {
  return Math.ceil(text.length / 4) + maxTokens;
}
