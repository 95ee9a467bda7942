import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { findPython } from '../../src/runtime/python.js';
import { PYTHON, pythonMissing } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';

const missing = pythonMissing(['numpy']);

describe('findPython', () => {
  itNeeds(missing)('skips candidates that lack a module or do not exist, and names the one it took', () => {
    const found = findPython(['numpy', 'json'], { candidates: ['/no/such/python3', PYTHON], env: {} });
    expect(found).toMatchObject({ command: PYTHON, from: 'candidates' });
    expect(found.version).toMatch(/^3\./);
    expect(findPython(['numpy'], { env: { OKVQA_PYTHON: PYTHON } }).from).toBe('OKVQA_PYTHON');
    expect(findPython(['numpy'], { explicit: PYTHON, env: { OKVQA_PYTHON: '/no/such' } }).from).toBe('flag');
  });

  itNeeds(missing)('one error listing what each candidate lacked; an explicit interpreter is never replaced', () => {
    const none = () => findPython(['numpy', 'okvqa_no_such_module'], { candidates: ['/no/such/python3', PYTHON], env: {}, purpose: 'x' });
    expect(none).toThrow(UsageError);
    expect(none).toThrow(/x needs Python 3 with numpy, okvqa_no_such_module; none found \(\/no\/such\/python3: not found; .*python3: No module named 'okvqa_no_such_module'\)\. Install them/);
    expect(() => findPython(['numpy'], { env: { OKVQA_PYTHON: '/no/such' }, candidates: [PYTHON] })).toThrow(/\/no\/such \(from OKVQA_PYTHON\) cannot: not found/);
  });
});
