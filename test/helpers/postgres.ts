/**
 * A throwaway PostgreSQL cluster for tests: `initdb` + `pg_ctl` in a temp folder on a loopback port, run as the
 * `postgres` user when the tests run as root (PostgreSQL refuses to run as root). Never a mock.
 * Without a PostgreSQL installation the tests that need one are skipped, except under CI=true, where it is an error
 * (.ci/run installs Debian's `postgresql`).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The newest PostgreSQL server binaries installed (Debian: /usr/lib/postgresql/<major>/bin), or undefined. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
    for (const m of majors) if (existsSync(join(root, m, 'bin', 'initdb'))) return join(root, m, 'bin');
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    /* not installed */
  }
  return undefined;
}

/** Whether the PostgreSQL tests can run here; under CI=true a missing server fails instead of skipping. */
export function havePostgres(): boolean {
  if (postgresBin()) return true;
  if (process.env.CI === 'true') throw new Error('PostgreSQL is not installed (initdb not found) but CI=true: install Debian\'s postgresql (.ci/run does)');
  return false;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestPostgres {
  port: number;
  /** URL of a database on the cluster (`postgres` by default). */
  url(db?: string): string;
  /** Create an empty database and return its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stop the server (keeps the data; `start` brings it back on the same port). */
  stop(): void;
  start(): void;
  /** Stop and delete everything. */
  destroy(): void;
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (no initdb)');
  const dir = mkdtempSync(join(tmpdir(), 'okvqa-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (exe: string, args: string[]) => {
    const cmd = asRoot ? 'runuser' : join(bin, exe);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, exe), ...args] : args;
    execFileSync(cmd, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  };
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'okvqa', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  const start = () => run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  let stopped = false;
  const url = (db = 'postgres') => `postgres://okvqa@127.0.0.1:${port}/${db}`;
  return {
    port,
    url,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: url() });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return url(name);
    },
    stop() {
      stop();
      stopped = true;
    },
    start() {
      start();
      stopped = false;
    },
    destroy() {
      try {
        if (!stopped) stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
