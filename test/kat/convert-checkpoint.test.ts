import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePaths } from '../../src/core/paths.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';

const SCRIPT = join(packagePaths().root, 'eval', 'kat', 'convert_kat_checkpoint.py');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-kat-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// A 2-layer T5's plain state-dict keys, random tensors; wrapped as KAT's FiDT5 saves them (EncoderWrapper + CheckpointWrapper).
const MAKE = `
import json, os, sys, torch
out = sys.argv[2]
torch.manual_seed(0)
def layer(stack, i, cross):
    ks = ['{}.block.{}.layer.0.SelfAttention.{}.weight'.format(stack, i, p) for p in 'qkvo'] + ['{}.block.{}.layer.0.layer_norm.weight'.format(stack, i)]
    if i == 0: ks.append('{}.block.0.layer.0.SelfAttention.relative_attention_bias.weight'.format(stack))
    n = 1
    if cross:
        ks += ['{}.block.{}.layer.1.EncDecAttention.{}.weight'.format(stack, i, p) for p in 'qkvo'] + ['{}.block.{}.layer.1.layer_norm.weight'.format(stack, i)]
        n = 2
    ks += ['{}.block.{}.layer.{}.DenseReluDense.{}.weight'.format(stack, i, n, p) for p in ('wi', 'wo')] + ['{}.block.{}.layer.{}.layer_norm.weight'.format(stack, i, n)]
    return ks
plain = ['shared.weight', 'encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'encoder.final_layer_norm.weight',
         'decoder.final_layer_norm.weight', 'lm_head.weight']
plain += [k for i in range(2) for k in layer('encoder', i, False) + layer('decoder', i, True)]
state = {k: torch.randn(3, 2) for k in plain}
def wrap(k):
    if not k.startswith('encoder.'): return k
    k = 'encoder.encoder.' + k[len('encoder.'):]
    parts = k.split('.')
    if parts[2] == 'block': parts.insert(4, 'module')
    return '.'.join(parts)
os.makedirs(os.path.join(out, 'kat'), exist_ok=True)
torch.save({wrap(k): v for k, v in state.items()}, os.path.join(out, 'kat', 'pytorch_model.bin'))
torch.save(state, os.path.join(out, 'plain.bin'))
json.dump({'architectures': ['FiDT5'], 'model_type': 't5', 'd_model': 2}, open(os.path.join(out, 'kat', 'config.json'), 'w'))
wrapped = sorted(wrap(k) for k in plain)
`;

// Runs the script as a program (runpy, __main__) in the same interpreter, then compares with the plain state dict: one
// torch import for the whole test (slow on a shared machine).
const RUN_AND_CHECK = MAKE + `
import io, runpy, contextlib
script, tmp = sys.argv[1], sys.argv[2]
def run(args):
    sys.argv = [script] + args
    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            runpy.run_path(script, run_name='__main__')
    except SystemExit as e:
        if e.code not in (None, 0): raise
    except ValueError as e:
        return {'error': str(e)}
    return json.loads(buf.getvalue())
summary = run([tmp + '/kat', tmp + '/out'])
a = torch.load(tmp + '/out/pytorch_model.bin'); b = torch.load(tmp + '/plain.bin')
torch.save({'x.weight': torch.zeros(1)}, tmp + '/junk.bin')
bad = run([tmp + '/junk.bin', tmp + '/out2'])
print(json.dumps({'wrapped': wrapped, 'summary': summary, 'same_keys': sorted(a) == sorted(b), 'equal': all(torch.equal(a[k], b[k]) for k in b), 'n': len(a), 'bad': bad}))
`;

const missing = pythonMissing(['torch']);
describe('eval/kat/convert_kat_checkpoint.py', () => {
  itNeeds(missing)(`renames a wrapped FiD state dict into the plain T5 one ${missing ? `(skipped: ${missing})` : ''}`, () => {
    const r = JSON.parse(runPython(RUN_AND_CHECK, [SCRIPT, tmp]));
    const wrapped = r.wrapped as string[];
    expect(wrapped).toContain('encoder.encoder.block.1.module.layer.0.SelfAttention.q.weight');
    expect(wrapped).toContain('encoder.encoder.embed_tokens.weight');
    expect(r.summary).toMatchObject({ keys: wrapped.length, renamed: wrapped.filter((k) => k.startsWith('encoder.')).length });
    expect(r).toMatchObject({ same_keys: true, equal: true, n: wrapped.length });
    expect(JSON.parse(readFileSync(join(tmp, 'out', 'config.json'), 'utf8'))).toMatchObject({ architectures: ['T5ForConditionalGeneration'], model_type: 't5' });
    expect(r.bad.error).toMatch(/no encoder blocks found/); // not a T5 state dict: a clear error
  }, 60_000);
});
