/**
 * Groups concurrent single-item calls into batches: the engine calls a stage once per question, but a model is faster on
 * a batch. Items submitted while a batch runs (or within `windowMs` of the first one) go into the next batch, up to
 * `maxSize`; batches run one after another. If a whole batch fails, its items are retried one by one, so one bad item
 * fails alone.
 */
export interface MicroBatcherOptions {
  maxSize: number;
  /** How long the first item of an idle batcher waits for company, in milliseconds. */
  windowMs: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Sizes of the batches run so far (for traces and tests). */
  readonly sizes: number[] = [];

  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly opts: MicroBatcherOptions,
  ) {
    if (!(opts.maxSize >= 1)) throw new Error(`batch size must be at least 1, got ${opts.maxSize}`);
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running) return; // the running batch picks the queue up when it ends
    if (this.queue.length >= this.opts.maxSize || this.opts.windowMs <= 0) {
      this.clearTimer();
      void this.drain();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.opts.windowMs);
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.opts.maxSize);
        this.sizes.push(batch.length);
        await this.runOne(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async runOne(batch: Pending<I, O>[]): Promise<void> {
    try {
      const out = await this.runBatch(batch.map((p) => p.item));
      if (out.length !== batch.length) throw new Error(`batch returned ${out.length} results for ${batch.length} items`);
      batch.forEach((p, i) => p.resolve(out[i]!));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      for (const p of batch) {
        try {
          const [o] = await this.runBatch([p.item]);
          p.resolve(o!);
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }
}
