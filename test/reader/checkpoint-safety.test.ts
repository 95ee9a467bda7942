/**
 * Importing or training from a checkpoint never runs code hidden in it: `okvqa_py.model` reads weight files with
 * torch's weights-only unpickler (a downloaded `pytorch_model.bin` is a pickle, and a plain `torch.load` executes any
 * `__reduce__` it holds). A file that needs more than tensors and containers is refused with a ValueError (the import
 * exits 2 naming it); a plain state dict, in torch's zip format or the legacy one transformers 3.0.2 wrote, still loads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonEnv } from '../../src/runtime/python.js';
import { PYTHON, pythonMissing } from '../helpers/python.js';
import { describeNeeds } from '../helpers/requires.js';

const missing = pythonMissing(['torch']);
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-ckpt-safety-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function py(code: string, ...args: string[]) {
  return spawnSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', env: pythonEnv() });
}

describeNeeds(missing)('checkpoint files are read without running their code', () => {
  it('a pickle carrying a callable is refused, and the callable never runs', () => {
    const evil = join(tmp, 'evil.bin');
    const marker = join(tmp, 'ran');
    const made = py(
      [
        'import sys, torch',
        'class Evil:',
        '    def __reduce__(self): return (open, (sys.argv[2], "w"))',
        'torch.save({"shared.weight": torch.zeros(2, 2), "x": Evil()}, sys.argv[1])',
      ].join('\n'),
      evil,
      marker,
    );
    expect(made.status, made.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
    const r = py('import sys\nfrom okvqa_py.model import _read_state\ntry:\n    _read_state(sys.argv[1])\nexcept ValueError as e:\n    print("refused:", e)\n    sys.exit(3)', evil);
    expect(existsSync(marker)).toBe(false);
    expect(r.status, r.stderr).toBe(3);
    expect(r.stdout).toMatch(/refused: .*evil\.bin/);
  });

  it('plain state dicts (zip and legacy formats, and {"state_dict": …}) still load', () => {
    const r = py(
      [
        'import sys, os, collections, torch',
        'from okvqa_py.model import _read_state',
        'sd = collections.OrderedDict([("a", torch.arange(6.).reshape(2, 3)), ("b", torch.ones(4))])',
        'd = sys.argv[1]',
        'torch.save(sd, os.path.join(d, "zip.bin"))',
        'torch.save(sd, os.path.join(d, "legacy.bin"), _use_new_zipfile_serialization=False)',
        'torch.save({"state_dict": sd}, os.path.join(d, "wrapped.bin"))',
        'for f in ("zip.bin", "legacy.bin", "wrapped.bin"):',
        '    s = _read_state(os.path.join(d, f))',
        '    print(f, sorted(s), float(s["a"].sum()), float(s["b"].sum()))',
      ].join('\n'),
      tmp,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['zip.bin [\'a\', \'b\'] 15.0 4.0', 'legacy.bin [\'a\', \'b\'] 15.0 4.0', 'wrapped.bin [\'a\', \'b\'] 15.0 4.0']);
  });
});
