import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { TARGET_IDS, type TargetId } from '../../data/fetch/manifest.js';

interface FetchFlags {
  dir: string;
  baseUrl?: string;
  keepArchives?: boolean;
  progress?: boolean;
  json?: boolean;
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

/** Registers `okvqa data fetch <target…>`. */
export function register(program: Command): void {
  const data = program.command('data').description('datasets: download the official files');
  data
    .command('fetch <targets...>')
    .description(`download, verify (size, sha256 where recorded, archive CRCs), unpack and write data.json: ${TARGET_IDS.join(' | ')}`)
    .option('--dir <dir>', 'where to put the data (downloads/, okvqa/, aokvqa/, coco/)', 'data')
    .option('--base-url <url>', 'fetch every file from <url>/<file name> (a mirror); env OKVQA_DATA_BASE_URL')
    .option('--keep-archives', 'keep the downloaded archives after unpacking')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the report as JSON')
    .action(async (targets: string[], f: FetchFlags) => {
      const unknown = targets.filter((t) => !(TARGET_IDS as readonly string[]).includes(t));
      if (unknown.length) throw new Error(`unknown data target ${unknown.map((t) => `"${t}"`).join(', ')}: use ${TARGET_IDS.join(', ')}`);
      const { fetchDataset } = await import('../../data/fetch/fetch.js');
      const baseUrl = f.baseUrl ?? process.env.OKVQA_DATA_BASE_URL;
      const showBar = f.progress !== false && process.stderr.isTTY;
      let bar: SingleBar | undefined;
      let barFile = '';
      const abort = new AbortController();
      const onSigint = () => {
        bar?.stop();
        process.stderr.write('\ninterrupt: the partial download is kept; rerun the same command to resume\n');
        abort.abort();
      };
      process.once('SIGINT', onSigint);
      const reports = [];
      try {
        for (const t of targets as TargetId[]) {
          const r = await fetchDataset(t, {
            dir: f.dir,
            ...(baseUrl ? { baseUrl } : {}),
            ...(f.keepArchives ? { keepArchives: true } : {}),
            signal: abort.signal,
            log: (msg) => {
              bar?.stop();
              bar = undefined;
              process.stderr.write(`${msg}\n`);
            },
            onProgress: (p) => {
              if (!showBar) return;
              if (!bar || barFile !== p.name) {
                bar?.stop();
                barFile = p.name;
                bar = new SingleBar(
                  { format: `${p.name} {bar} {percentage}% | {got} of {size} | eta {eta_formatted}`, stream: process.stderr, fps: 5 },
                  Presets.shades_classic,
                );
                bar.start(p.total ?? 0, p.received, { got: mib(p.received), size: p.total ? mib(p.total) : '?' });
              }
              bar.update(p.received, { got: mib(p.received) });
            },
          });
          bar?.stop();
          bar = undefined;
          reports.push(r);
          if (!f.json) {
            for (const file of r.files) {
              process.stderr.write(
                `${file.name}: ${file.downloaded ? 'downloaded' : 'already there'}, ${file.size} bytes, sha256 ${file.sha256} ` +
                  `(${file.verified === 'sha256' ? 'matches the recorded digest' : 'no recorded digest: size and archive CRCs checked'})` +
                  `${file.resumed ? `, resumed ${file.resumed}×` : ''}${file.refetched ? `, fetched again ${file.refetched}× (corrupt)` : ''}\n`,
              );
            }
            process.stderr.write(`${t}: ready in ${r.folder}${r.dataJson.length ? `; data.json: ${r.dataJson.join(', ')}` : ''}\n`);
          }
        }
      } finally {
        process.off('SIGINT', onSigint);
        bar?.stop();
      }
      if (f.json) process.stdout.write(`${JSON.stringify(reports)}\n`);
    });
}
