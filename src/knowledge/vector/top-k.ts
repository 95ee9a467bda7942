/** The k best (score, row) pairs of a scan, kept sorted (used by the JS and IVF searches). */
import type { Hit } from './types.js';

/** Keep the k best (score, row) pairs seen: arrays sorted best first. k ≤ 0 (or NaN) keeps nothing. */
export class TopK {
  readonly scores: Float32Array;
  readonly rows: Int32Array;
  readonly k: number;
  n = 0;
  constructor(k: number) {
    this.k = k > 0 ? Math.floor(k) : 0;
    this.scores = new Float32Array(this.k);
    this.rows = new Int32Array(this.k);
  }
  get threshold(): number {
    return this.n < this.k ? -Infinity : this.scores[this.k - 1]!;
  }
  push(score: number, row: number): void {
    if (this.k === 0) return;
    if (this.n === this.k && score <= this.scores[this.k - 1]!) return;
    let i = this.n < this.k ? this.n++ : this.k - 1;
    while (i > 0 && this.scores[i - 1]! < score) {
      this.scores[i] = this.scores[i - 1]!;
      this.rows[i] = this.rows[i - 1]!;
      i--;
    }
    this.scores[i] = score;
    this.rows[i] = row;
  }
  hits(): Hit[] {
    const out: Hit[] = [];
    for (let i = 0; i < this.n; i++) out.push({ row: this.rows[i]!, score: this.scores[i]! });
    return out;
  }
}
