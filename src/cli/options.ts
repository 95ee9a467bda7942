import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { resolveConfig, type Config } from '../core/config.js';
import { ConfigError, UsageError } from '../core/errors.js';

/** Options every config-aware command accepts. */
export interface ConfigOptions {
  config?: string;
  set?: string[];
  profile?: string;
  offline?: boolean;
  device?: string;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export interface NumberRule {
  /** Whole numbers only. */
  integer?: boolean;
  /** Smallest accepted value (inclusive). */
  min?: number;
  /** Accept only values > 0. */
  positive?: boolean;
}

/**
 * The one parser for numeric flags: `parseNumberFlag('--limit', opts.limit, { integer: true, positive: true })`.
 * Undefined stays undefined (the caller supplies its default); anything else must satisfy the rule or it is a usage
 * error naming the flag and what it expects.
 */
export function parseNumberFlag(flag: string, raw: string | undefined, rule: NumberRule = {}): number | undefined {
  if (raw === undefined) return undefined;
  const name = flag.startsWith('-') ? flag : `--${flag}`;
  const n = raw.trim() === '' ? NaN : Number(raw);
  const ok = Number.isFinite(n) && (!rule.integer || Number.isInteger(n)) && (!rule.positive || n > 0) && (rule.min === undefined || n >= rule.min);
  if (!ok) {
    const what = [
      rule.positive ? 'positive' : rule.min === 0 ? 'non-negative' : '',
      rule.integer ? 'integer' : 'number',
    ].filter(Boolean).join(' ');
    const bound = rule.min !== undefined && rule.min !== 0 ? ` ≥ ${rule.min}` : '';
    throw new UsageError(`${name} expects a ${what}${bound}, got "${raw}"`);
  }
  return n;
}

/** Adds --config, --set, --profile, --offline to a command. */
export function withConfigOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'config file (YAML or JSON); default ./okvqa.config.{yaml,yml,json} when present')
    .option('--set <key=value>', 'override a config value or node param (repeatable), e.g. llm.model=gpt-4o', collect, [])
    .option('--profile <name>', 'model profile: default (hub models) or tiny (generated test models)')
    .option('--offline', 'never touch the network for models')
    .option('--device <device>', 'where models run: cpu (default), cuda (onnxruntime CUDA provider), auto (cuda when available)');
}

/** The config file a command reads (`--config F`, else the first of ./okvqa.config.{yaml,yml,json}) and its content. */
export function readConfigFile(path?: string): { file?: string; value: unknown } {
  const candidates = path ? [path] : ['okvqa.config.yaml', 'okvqa.config.yml', 'okvqa.config.json'];
  for (const c of candidates) {
    const p = resolve(c);
    if (!existsSync(p)) {
      if (path) throw new ConfigError(`config file not found: ${p}`);
      continue;
    }
    let value: unknown;
    try {
      value = parseYaml(readFileSync(p, 'utf8')) ?? {};
    } catch (err) {
      throw new ConfigError(`config file ${p}: not valid YAML/JSON: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`config file ${p}: expected a mapping of config keys`);
    return { file: p, value };
  }
  return { value: {} };
}

/** Flags that map onto config keys, as `--set` assignments (flags are the top layer). */
export function flagSets(opts: ConfigOptions): string[] {
  const sets = (opts.set ?? []).filter((s) => !s.startsWith('nodes.'));
  if (opts.profile) sets.push(`models.profile=${opts.profile}`);
  if (opts.offline) sets.push('models.offline=true');
  if (opts.device) sets.push(`models.device=${opts.device}`);
  return sets;
}

/** Layered config for a command: defaults → file → (pipeline) → environment → --set and flags. */
export function configFromOptions(opts: ConfigOptions, pipelineConfig?: unknown, pipelineName?: string): Config {
  const file = readConfigFile(opts.config);
  return resolveConfig({
    file: file.value,
    ...(file.file ? { fileName: file.file } : {}),
    pipeline: pipelineConfig,
    ...(pipelineName ? { pipelineName } : {}),
    sets: flagSets(opts),
    env: process.env,
  });
}
