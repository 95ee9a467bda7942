import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import type { SampleResult } from './runner.js';

/**
 * trace.jsonl: one line per finished question, appended as results arrive, so an interrupted run loses nothing.
 * A torn last line (a crash mid-write) is dropped on resume.
 */
export class TraceFile {
  private fd: number | undefined;

  constructor(readonly path: string) {}

  /** Completed records of an earlier run; `failed` ones are dropped from the file so they are retried, not duplicated. */
  static readForResume(path: string): { done: Map<string, SampleResult>; failed: number; torn: boolean } {
    const done = new Map<string, SampleResult>();
    if (!existsSync(path)) return { done, failed: 0, torn: false };
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    let torn = false;
    let failed = 0;
    const keep: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.trim()) continue;
      let rec: SampleResult;
      try {
        rec = JSON.parse(line) as SampleResult;
      } catch {
        if (i === lines.length - 1 || (i === lines.length - 2 && lines[lines.length - 1] === '')) {
          torn = true;
          continue;
        }
        throw new Error(`${path}:${i + 1}: corrupt trace line`);
      }
      if (rec.ok && !done.has(rec.questionId)) {
        done.set(rec.questionId, rec);
        keep.push(line);
      } else if (!rec.ok) failed++;
    }
    if (torn || failed) {
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, keep.map((l) => l + '\n').join(''));
      renameSync(tmp, path);
    }
    return { done, failed, torn };
  }

  append(rec: SampleResult): void {
    this.fd ??= openSync(this.path, 'a');
    writeSync(this.fd, JSON.stringify(rec) + '\n');
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
