import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { resolveConfig, type Config } from '../core/config.js';

/** Options every config-aware command accepts. */
export interface ConfigOptions {
  config?: string;
  set?: string[];
  profile?: string;
  offline?: boolean;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds --config, --set, --profile, --offline to a command. */
export function withConfigOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'config file (YAML or JSON); default ./okvqa.config.{yaml,yml,json} when present')
    .option('--set <key=value>', 'override a config value or node param (repeatable), e.g. llm.model=gpt-4o', collect, [])
    .option('--profile <name>', 'model profile: default (hub models) or tiny (generated test models)')
    .option('--offline', 'never touch the network for models');
}

export function readConfigFile(path?: string): unknown {
  const candidates = path ? [path] : ['okvqa.config.yaml', 'okvqa.config.yml', 'okvqa.config.json'];
  for (const c of candidates) {
    const p = resolve(c);
    if (!existsSync(p)) {
      if (path) throw new Error(`config file not found: ${p}`);
      continue;
    }
    return parseYaml(readFileSync(p, 'utf8')) ?? {};
  }
  return {};
}

/** Layered config for a command: defaults → file → (pipeline) → --set and flags → env. */
export function configFromOptions(opts: ConfigOptions, pipelineConfig?: unknown): Config {
  const sets = [...(opts.set ?? []).filter((s) => !s.startsWith('nodes.'))];
  if (opts.profile) sets.push(`models.profile=${opts.profile}`);
  if (opts.offline) sets.push('models.offline=true');
  return resolveConfig({ file: readConfigFile(opts.config), pipeline: pipelineConfig, sets, env: process.env });
}
