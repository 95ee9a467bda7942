/** Reading what `okvqa run` left in a folder (manifest.json, metrics.json, trace.jsonl), tolerant of missing parts. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sample } from '../core/artifacts.js';
import { errorMessage } from '../core/errors.js';
import type { SampleResult } from '../core/runner.js';
import { loadSamples } from '../data/data-file.js';
import { loadVqaAnnotations, type VqaAnnotation } from '../data/okvqa.js';
import type { DataSources } from '../data/sources.js';

export interface ManifestNode {
  name: string;
  stage: string;
  version?: string;
  params?: unknown;
  inputs?: Record<string, string[]>;
}

export interface RunManifest {
  pipeline?: { name?: string; file?: string; output?: string };
  nodes?: ManifestNode[];
  data?: DataSources;
  config?: Record<string, unknown>;
  models?: Record<string, unknown>;
  okvqa?: { version?: string; commit?: string | null };
  questions?: number;
  startedAt?: string;
  endedAt?: string;
  status?: string;
  usage?: Record<string, number>;
  cache?: { path?: string; mode?: string; hits?: number; misses?: number; writes?: number };
  [k: string]: unknown;
}

export interface RunFiles {
  dir: string;
  manifest: RunManifest;
  metrics: Record<string, unknown> | undefined;
  /** One record per question, in trace order; a question traced twice (resume) keeps its last record. */
  results: SampleResult[];
  /** Questions (with answers when annotated) from the run's data, by question id; empty when the data cannot be read. */
  samples: Map<string, Sample>;
  /** OK-VQA annotations by question id (question_type / answer_type / answer objects), when available. */
  annotations: Map<string, VqaAnnotation>;
  /** Things that could not be read, for the report's header. */
  warnings: string[];
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** Parse trace.jsonl: malformed lines are skipped and counted (a torn last line after a crash is normal). */
export function readTrace(path: string, warnings: string[] = []): SampleResult[] {
  const byId = new Map<string, SampleResult>();
  let bad = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as SampleResult;
      if (rec && typeof rec.questionId === 'string') {
        byId.delete(rec.questionId);
        byId.set(rec.questionId, rec);
      } else bad++;
    } catch {
      bad++;
    }
  }
  if (bad) warnings.push(`${path}: ${bad} unreadable line(s) skipped`);
  return [...byId.values()];
}

/** Load a run folder. Only trace.jsonl is required; the data named by the manifest is read when it is still there. */
export function readRunFiles(dir: string): RunFiles {
  const warnings: string[] = [];
  const tracePath = join(dir, 'trace.jsonl');
  if (!existsSync(tracePath)) throw new Error(`${dir}: no trace.jsonl (not an okvqa run folder?)`);
  const manifestPath = join(dir, 'manifest.json');
  let manifest: RunManifest = {};
  if (existsSync(manifestPath)) {
    try {
      manifest = readJson(manifestPath) as RunManifest;
    } catch (err) {
      warnings.push(`manifest.json unreadable: ${errorMessage(err)}`);
    }
  } else warnings.push('no manifest.json');
  let metrics: Record<string, unknown> | undefined;
  const metricsPath = join(dir, 'metrics.json');
  if (existsSync(metricsPath)) {
    try {
      metrics = readJson(metricsPath) as Record<string, unknown>;
    } catch (err) {
      warnings.push(`metrics.json unreadable: ${errorMessage(err)}`);
    }
  }
  const results = readTrace(tracePath, warnings);
  const samples = new Map<string, Sample>();
  const annotations = new Map<string, VqaAnnotation>();
  const data = manifest.data;
  if (data?.questions) {
    try {
      for (const s of loadSamples(data)) samples.set(s.questionId, s);
    } catch (err) {
      warnings.push(`questions of the run's data not readable (${errorMessage(err)}): questions, answers and images are not shown`);
    }
    if (data.annotations && data.dataset !== 'aokvqa') {
      try {
        for (const a of loadVqaAnnotations(data.annotations)) annotations.set(String(a.question_id), a);
      } catch (err) {
        warnings.push(`annotations not readable: ${errorMessage(err)}`);
      }
    }
  } else warnings.push('the manifest names no data: questions and answers are not shown');
  return { dir, manifest, metrics, results, samples, annotations, warnings };
}
