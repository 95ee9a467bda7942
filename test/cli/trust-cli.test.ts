/**
 * Runs a user can trust, through the built CLI (npm run build first): refuse before starting, flags over environment,
 * unknown keys, exit codes, no hang on odd paths, messages that say what to do.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { okvqa, repoRoot } from '../helpers/cli.js';
import { okvqaIn } from '../helpers/cli-inprocess.js';

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-trust-'));
const miniDir = join(repoRoot, 'test/fixtures/okvqa-mini');
const mini = join(miniDir, 'data.json');
const env = { OKVQA_CACHE_PATH: join(tmp, 'cache.sqlite') };
const hasProc = existsSync('/proc/self');

function dataFile(name: string, spec: Record<string, unknown>): string {
  const p = join(tmp, `${name}.json`);
  writeFileSync(p, JSON.stringify(spec));
  return p;
}
const noTags = dataFile('no-tags', {
  dataset: 'okvqa',
  questions: join(miniDir, 'val_questions.json'),
  annotations: join(miniDir, 'val_annotations.json'),
  captions: join(miniDir, 'vinvl_captions.tsv'),
  examples: { questions: join(miniDir, 'train_questions.json'), annotations: join(miniDir, 'train_annotations.json'), captions: join(miniDir, 'vinvl_captions.tsv') },
});

describe('okvqa run refuses before starting (exit 2)', () => {
  it('no pipeline: says so and lists the pipelines', async () => {
    const r = await okvqaIn(['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run: name a pipeline.*Pipelines: .*pica-base.*prior/);
    expect(r.stderr).not.toMatch(/required option/);
  });

  it('pica-base with a data.json that names no tags file: one error naming node, stage, key and fix; nothing ran', async () => {
    const out = join(tmp, 'pica-no-tags');
    const r = await okvqaIn(['run', 'pica-base', '--data', noTags, '--out', out, '--no-progress'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: node "tags" \(tags.file\): tags: no tags file is named\. Fix: .*use pica-base-caption/);
    expect(r.stderr).toMatch(/refusing to start/);
    expect(existsSync(join(out, 'trace.jsonl'))).toBe(false);
    const c = await okvqaIn(['check', 'pica-base', '--data', noTags, '--json'], env);
    expect(c.code).toBe(2);
    const report = JSON.parse(c.stdout);
    expect(report.errors.map((e: { key: string }) => e.key)).toEqual(['tags']);
    expect((await okvqaIn(['check', 'prior', '--data', mini], env)).code).toBe(0);
  });

  it('a missing data file names the file and says where data comes from', async () => {
    const missing = join(tmp, 'nowhere', 'data.json');
    const r = await okvqaIn(['run', 'prior', '--data', missing, '--out', join(tmp, 'x')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toContain('okvqa data fetch okvqa');
    const q = dataFile('missing-questions', { dataset: 'okvqa', questions: 'OpenEnded_mscoco_val2014_questions.json' });
    const r2 = await okvqaIn(['check', 'prior', '--data', q], env);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(join(tmp, 'OpenEnded_mscoco_val2014_questions.json'));
    expect(r2.stderr).toContain('file not found');
  });

  it.skipIf(!hasProc)('/proc/x as output, KB or cache path fails fast (no hang)', async () => {
    const run = okvqa(['run', 'prior', '--data', mini, '--out', '/proc/x', '--no-progress'], env, 20_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/\/proc\/x: cannot create output folder/);
    const kb = okvqa(['kb', 'build', '--wikidata', join(repoRoot, 'test/fixtures/wikidata/mini-dump.json'), '--out', '/proc/x/kb.sqlite', '--quiet'], {}, 20_000);
    expect(kb.code).toBe(2);
    expect(kb.stderr).toMatch(/cannot create knowledge-base folder/);
    const cache = okvqa(['run', 'prior', '--data', mini, '--out', join(tmp, 'proc-cache'), '--no-progress'], { OKVQA_CACHE_PATH: '/proc/x/c.sqlite' }, 20_000);
    expect(cache.code).toBe(2);
    expect(cache.stderr).toMatch(/cannot create cache folder/);
  });

  it('--resume into another run\'s folder says what differs', async () => {
    const out = join(tmp, 'resume');
    expect((await okvqaIn(['run', 'prior', '--data', mini, '--out', out, '--limit', '2', '--no-progress'], env)).code).toBe(0);
    const r = await okvqaIn(['run', 'prior', '--data', mini, '--out', out, '--limit', '3', '--resume', '--set', 'nodes.candidates.params.k=7', '--no-progress'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/What differs:/);
    expect(r.stderr).toMatch(/node "candidates": was .*"k":80.*now .*"k":7/);
    expect(r.stderr).toMatch(/questions: was 2 .*now 3/);
  });
});

describe('flags over environment, unknown keys', () => {
  it('--cache replay wins over OKVQA_CACHE_MODE=rw', async () => {
    const absent = join(tmp, 'absent.sqlite');
    const r = await okvqaIn(['run', 'prior', '--data', mini, '--out', join(tmp, 'replay'), '--cache', 'replay', '--limit', '2', '--no-progress'], { OKVQA_CACHE_MODE: 'rw', OKVQA_CACHE_PATH: absent });
    expect(r.stderr).toContain(`cache replay: no cache file at ${absent}`);
    expect(r.code).toBe(2);
    expect(existsSync(absent)).toBe(false);
  });

  it('--profile wins over OKVQA_PROFILE', async () => {
    const out = join(tmp, 'profile');
    const r = await okvqaIn(['run', 'prior', '--data', mini, '--out', out, '--limit', '1', '--profile', 'default', '--no-progress'], { ...env, OKVQA_PROFILE: 'tiny' });
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).config.models.profile).toBe('default');
  });

  it('unknown --set keys, config-file keys, OKVQA_* variables and flags are errors with the nearest key', async () => {
    const a = await okvqaIn(['run', 'prior', '--data', mini, '--out', join(tmp, 'u1'), '--set', 'llm.modle=gpt-4o'], env);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/unknown config key "llm.modle" \(did you mean llm.model\?\)/);
    const b = await okvqaIn(['run', 'prior', '--data', mini, '--out', join(tmp, 'u2'), '--set', 'foo=1'], env);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/unknown config key "foo"/);
    const cfg = join(tmp, 'okvqa.config.yaml');
    writeFileSync(cfg, 'llm:\n  modle: gpt-4o\n');
    const c = await okvqaIn(['run', 'prior', '--data', mini, '--out', join(tmp, 'u3'), '--config', cfg], env);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/config file .*okvqa.config.yaml: unknown config key "llm.modle" \(did you mean llm.model\?\)/);
    const d = await okvqaIn(['run', 'prior', '--data', mini, '--out', join(tmp, 'u4')], { ...env, OKVQA_CACHE_MOD: 'rw' });
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/unknown variable OKVQA_CACHE_MOD \(did you mean OKVQA_CACHE_MODE\?\)/);
    const e = await okvqaIn(['run', 'prior', '--data', mini, '--out', join(tmp, 'u5'), '--limt', '3'], env);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/unknown option '--limt'/);
  });
});

describe('messages', () => {
  it('kb build --wikidata on a file that is not a dump is an error; an empty category build explains why', async () => {
    const notDump = join(tmp, 'notes.txt');
    writeFileSync(notDump, 'hello\nthis is not a dump\n');
    const r = await okvqaIn(['kb', 'build', '--wikidata', notDump, '--out', join(tmp, 'nd.sqlite'), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/notes.txt: not a Wikidata JSON dump: no entity found in 2 lines/);
    expect(existsSync(join(tmp, 'nd.sqlite'))).toBe(false);
    const s = await okvqaIn(['kb', 'build', '--wikidata', join(repoRoot, 'test/fixtures/wikidata/sample-entities.json'), '--out', join(tmp, 'sample.sqlite'), '--quiet']);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/kept 0 of 49 items/);
    expect(s.stderr).toMatch(/none of the 49 items is an instance \(P31\) or subclass \(P279\).*--categories all/);
  });

  it('llm batch status with nothing queued says so and needs no API key', async () => {
    const r = await okvqaIn(['llm', 'batch', 'status'], { OKVQA_CACHE_PATH: join(tmp, 'batch', 'cache.sqlite') });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nothing queued/);
  });

  it('bad YAML and unknown params name the file, node and field', async () => {
    mkdirSync(join(tmp, 'pl'), { recursive: true });
    const bad = join(tmp, 'pl', 'bad.yaml');
    writeFileSync(bad, 'nodes:\n  answer: { use: answer.top\n');
    const a = await okvqaIn(['graph', bad]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain(`${bad}: not valid YAML`);
    const param = join(tmp, 'pl', 'param.yaml');
    writeFileSync(param, 'extends: prior\nnodes:\n  candidates: { use: candidates.prior, params: { kk: 3 } }\n');
    const b = await okvqaIn(['graph', param]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`${param} node "candidates" field "params.kk": unknown param "kk" of stage candidates.prior (did you mean k?)`);
    const stage = join(tmp, 'pl', 'stage.yaml');
    writeFileSync(stage, 'extends: prior\nnodes:\n  candidates: { use: candidates.prio }\n');
    const c = await okvqaIn(['run', stage, '--data', mini, '--out', join(tmp, 'stage-run')], env);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(`${stage} node "candidates" field "use": unknown stage "candidates.prio" (did you mean candidates.prior`); // (other close ids may follow)
    const cycle = join(tmp, 'pl', 'cycle.yaml');
    writeFileSync(
      cycle,
      'nodes:\n  captions: { use: caption.file }\n  ex: { use: examples.answer-aware, inputs: { candidates: cands } }\n' +
        '  prompts: { use: prompt.pica, inputs: { examples: ex } }\n  cands: { use: implicit.rationale, inputs: { prompts: prompts } }\n' +
        '  answer: { use: answer.top, inputs: { candidates: cands } }\n',
    );
    const d = await okvqaIn(['check', cycle, '--data', mini], env);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/cycle.yaml node "\w+" field "inputs": cycle: \w+ -> \w+ -> \w+ -> \w+/);
  });
});
