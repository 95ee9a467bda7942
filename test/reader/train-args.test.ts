/**
 * okvqa_py.train refuses step counts it would divide by (`step % N`) or cannot batch with, as argparse refuses any bad
 * argument: exit 2 with the flag named, before any data or checkpoint is read — not a ZeroDivisionError traceback
 * (exit 1) after the model has loaded.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pythonEnv } from '../../src/runtime/python.js';
import { PYTHON, pythonMissing } from '../helpers/python.js';
import { describeNeeds } from '../helpers/requires.js';

const missing = pythonMissing(['torch']);

describeNeeds(missing)('okvqa_py.train: step counts must be positive', () => {
  it.each(['--eval-freq', '--accumulation-steps', '--log-every'])('%s 0 is a usage error naming the flag', (flag) => {
    const args = ['-m', 'okvqa_py.train', '--train-data', '/no/such/train.json', '--eval-data', '/no/such/val.json', '--model', '/no/such/model', '--out', '/no/such/out', flag, '0'];
    const r = spawnSync(PYTHON, args, { encoding: 'utf8', env: pythonEnv() });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`argument ${flag}: `);
    expect(r.stderr).toMatch(/must be a positive integer/);
  });
});
