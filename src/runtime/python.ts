/**
 * Finding a Python 3 interpreter with the modules okvqa's Python tooling (`python/okvqa_py`) needs, and running its
 * modules. On Debian machines `python3` on PATH (pyenv, a venv) often lacks torch while `/usr/bin/python3` has it
 * (python3-torch): the first interpreter that imports every module wins, and the caller names it.
 *
 * Order: an explicit interpreter (`--python`, else `OKVQA_PYTHON`) — used alone, never replaced by another — else the
 * candidates `python3`, `/usr/bin/python3`, `/usr/local/bin/python3`, `python`.
 */
import { execFile, spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { packagePaths } from '../core/paths.js';

export const PYTHON_CANDIDATES: readonly string[] = ['python3', '/usr/bin/python3', '/usr/local/bin/python3', 'python'];

export interface PythonFound {
  /** The command as given (`python3`, a path). */
  command: string;
  /** sys.executable of that interpreter. */
  executable: string;
  version: string;
  /** Where it came from: the flag, the environment variable, or the candidate list. */
  from: 'flag' | 'OKVQA_PYTHON' | 'candidates';
}

/** The folder holding the okvqa_py package (shipped in the npm package). */
export function pythonPackageDir(): string {
  return join(packagePaths().root, 'python');
}

/** Environment for a Python child: okvqa_py importable (PYTHONPATH first), everything else inherited. */
export function pythonEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const pp = env.PYTHONPATH ? `${pythonPackageDir()}${delimiter}${env.PYTHONPATH}` : pythonPackageDir();
  return { ...env, PYTHONPATH: pp };
}

/** What `command` lacks of `modules` (undefined when it imports them all), and what it is. */
function probe(command: string, modules: readonly string[]): { ok: true; executable: string; version: string } | { ok: false; why: string } {
  // find_spec locates a module without importing it (importing torch takes seconds): cheap enough to try every candidate
  const code = [
    'import sys, importlib.util as u',
    `missing = [m for m in ${JSON.stringify(modules)} if u.find_spec(m) is None]`,
    "if missing: sys.exit('No module named ' + ', '.join(repr(m) for m in missing))",
    'print(sys.executable); print(sys.version.split()[0])',
  ].join('\n');
  const r = spawnSync(command, ['-c', code], { encoding: 'utf8', env: pythonEnv(), timeout: 120_000 });
  if (r.error) return { ok: false, why: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message };
  if (r.status !== 0) {
    const last = r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`;
    return { ok: false, why: last };
  }
  const [executable = command, version = '?'] = r.stdout.trim().split('\n');
  return { ok: true, executable, version };
}

/**
 * The interpreter to use: `explicit` (a flag) or `OKVQA_PYTHON` when set, else the first candidate that imports every
 * module. Throws one UsageError saying, for each interpreter tried, what it lacked, and how to fix it.
 */
export function findPython(
  modules: readonly string[],
  opts: { explicit?: string; env?: NodeJS.ProcessEnv; candidates?: readonly string[]; purpose?: string } = {},
): PythonFound {
  const env = opts.env ?? process.env;
  const purpose = opts.purpose ?? 'this command';
  const fix = `Install them (Debian: apt-get install ${modules.map((m) => `python3-${m}`).join(' ')}) or name an interpreter that has them with --python or OKVQA_PYTHON.`;
  const chosen = opts.explicit ? { command: opts.explicit, from: 'flag' as const } : env.OKVQA_PYTHON ? { command: env.OKVQA_PYTHON, from: 'OKVQA_PYTHON' as const } : undefined;
  if (chosen) {
    const p = probe(chosen.command, modules);
    if (p.ok) return { command: chosen.command, executable: p.executable, version: p.version, from: chosen.from };
    throw new UsageError(
      `${purpose} needs Python 3 with ${modules.join(', ')}: ${chosen.command} (from ${chosen.from === 'flag' ? '--python' : 'OKVQA_PYTHON'}) cannot: ${p.why}. ${fix}`,
    );
  }
  const tried: string[] = [];
  for (const c of opts.candidates ?? PYTHON_CANDIDATES) {
    const p = probe(c, modules);
    if (p.ok) return { command: c, executable: p.executable, version: p.version, from: 'candidates' };
    tried.push(`${c}: ${p.why}`);
  }
  throw new UsageError(`${purpose} needs Python 3 with ${modules.join(', ')}; none found (${tried.join('; ')}). ${fix}`);
}

/** Whether the interpreter can import `module` (e.g. an optional okvqa_py module). */
export function pythonHasModule(python: string, module: string): boolean {
  return probe(python, [module]).ok;
}

/** Run `python -m module args…` with okvqa_py importable; resolves with stdout, rejects with stderr's tail. */
export function runPythonModule(python: string, module: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(python, ['-m', module, ...args], { env: pythonEnv(), maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const tail = stderr.trim().split('\n').slice(-6).join('\n');
        reject(Object.assign(new Error(`${python} -m ${module} failed (${err.code ?? err.signal}): ${tail}`), { stderr, code: err.code }));
        return;
      }
      resolvePromise({ stdout, stderr });
    });
  });
}
