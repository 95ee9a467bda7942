/**
 * The reader's tokenizer for `okvqa export fid --tokenizer`: resolved and loaded exactly as `reader.fid` loads it
 * (role `reader` or an explicit hub id / folder, `loadReaderTokenizer`), with the EOS id `reader.fid` appends.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { describeSource } from '../models/hub.js';
import type { PassageTokenizer } from '../reader/fid.js';
import { loadReaderTokenizer, readerSource, t5Geometry } from '../reader/t5.js';
import { createRunContext } from '../run-context.js';

function readJson(dir: string, name: string): Record<string, unknown> | undefined {
  const f = join(dir, name);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>) : undefined;
}

export async function loadExportTokenizer(config: Config, model?: string): Promise<{ tokenizer: PassageTokenizer; id: string; close: () => Promise<void> }> {
  const ctx = createRunContext({ config: { ...config, cache: { ...config.cache, mode: 'off' } } });
  try {
    const source = readerSource(ctx, model);
    const tokenizer = await loadReaderTokenizer(ctx, source);
    // EOS as reader.fid takes it (config.json / generation_config.json), else the tokenizer's, else T5's 1
    const cfg = source.from === 'hub' ? undefined : readJson(source.location, 'config.json');
    const own = (tokenizer as unknown as { eos_token_id?: number }).eos_token_id;
    const eosTokenId = cfg ? t5Geometry({ d_model: 1, num_heads: 1, num_layers: 1, vocab_size: 1, ...cfg }, readJson(source.location, 'generation_config.json')).eosTokenId : own ?? 1;
    return { tokenizer: { tokenizer, geometry: { eosTokenId } }, id: describeSource(source), close: () => ctx.close() };
  } catch (err) {
    await ctx.close();
    throw err;
  }
}
