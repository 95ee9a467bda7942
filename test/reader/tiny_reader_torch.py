"""The tiny test reader (assets/models/okvqa-tiny/t5) as a torch checkpoint for okvqa_py: its reference weights
(test/fixtures/models/t5.reference.npz, the arrays generate_t5.py built the ONNX graphs from) under transformers' T5 key names,
written by okvqa_py.model.save_reader, with the tokenizer files beside it.

    /usr/bin/python3 test/reader/tiny_reader_torch.py OUT_DIR [EXPORT.json PREDICTIONS.json]

With an export (okvqa export fid --tokenizer --regions), also writes the checkpoint's greedy answers on it
(okvqa_py.train.predict, visual tokens included), in the same process (one torch start-up in the test).
"""
import json
import os
import shutil
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, 'python'))
from okvqa_py.model import FiDT5, T5Config, save_reader  # noqa: E402

T5 = os.path.join(ROOT, 'assets', 'models', 'okvqa-tiny', 't5')
NPZ = os.path.join(ROOT, 'test', 'fixtures', 'models', 't5.reference.npz')


def state_from_npz(W, cfg):
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))  # noqa: E731
    lin = lambda a: t(a.T)  # noqa: E731  x @ W (npz) = Linear with weight W.T
    s = {'shared.weight': t(W['shared']), 'lm_head.weight': lin(W['lm_head']),
         'visual_projection.weight': lin(W['visual.w']), 'visual_projection.bias': t(W['visual.b'])}
    for stack, n in (('encoder', cfg['num_layers']), ('decoder', cfg['num_decoder_layers'])):
        s['{}.block.0.layer.0.SelfAttention.relative_attention_bias.weight'.format(stack)] = t(W[stack + '.rel_bias'])
        s['{}.final_layer_norm.weight'.format(stack)] = t(W[stack + '.final_ln'])
        for i in range(n):
            b = '{}.block.{}.layer.'.format(stack, i)
            parts = [('self', 'SelfAttention')] + ([('cross', 'EncDecAttention')] if stack == 'decoder' else [])
            for j, (a, name) in enumerate(parts):
                p = '{}.{}.{}'.format(stack, i, a)
                s[b + '{}.layer_norm.weight'.format(j)] = t(W[p + '.ln'])
                for m in 'qkvo':
                    s[b + '{}.{}.{}.weight'.format(j, name, m)] = lin(W[p + '.' + m])
            f = b + '{}.'.format(len(parts))
            p = '{}.{}.ff'.format(stack, i)
            s[f + 'layer_norm.weight'] = t(W[p + '.ln'])
            s[f + 'DenseReluDense.wi_0.weight'] = lin(W[p + '.wi0'])
            s[f + 'DenseReluDense.wi_1.weight'] = lin(W[p + '.wi1'])
            s[f + 'DenseReluDense.wo.weight'] = lin(W[p + '.wo'])
    return s


def main(out):
    with open(os.path.join(T5, 'config.json'), encoding='utf-8') as f:
        cfg = json.load(f)
    W = dict(np.load(NPZ))
    model = FiDT5(T5Config.from_dict({k: v for k, v in cfg.items() if k not in ('architectures', '_comment')}))
    missing, unexpected = model.load_state_dict(state_from_npz(W, cfg), strict=False)
    missing = [k for k in missing if not k.endswith('embed_tokens.weight')]  # the shared embedding under its other names
    if missing or unexpected:
        raise SystemExit('state dict does not fit: missing {} unexpected {}'.format(missing, unexpected))
    save_reader(model, out)
    for f in ('tokenizer.json', 'tokenizer_config.json', 'generation_config.json'):
        shutil.copyfile(os.path.join(T5, f), os.path.join(out, f))
    print(out)
    return model


if __name__ == '__main__':
    model = main(sys.argv[1])
    if len(sys.argv) > 3:
        from okvqa_py.data import load_examples
        from okvqa_py.decode import AnswerDecoder
        from okvqa_py.train import predict
        examples = load_examples(sys.argv[2], need_answers=False, regions=True)
        preds = predict(model, examples, AnswerDecoder(sys.argv[1]), torch.device('cpu'), True)
        with open(sys.argv[3], 'w', encoding='utf-8') as f:
            json.dump(preds, f)
