#!/usr/bin/python3
"""Turn a KAT (FiD) checkpoint into a plain T5 checkpoint that transformers / optimum load without warnings.

KAT's FiDT5 wraps the encoder (src/model.py EncoderWrapper + CheckpointWrapper), so its saved state dict reads
`encoder.encoder.*` and `encoder.encoder.block.{i}.module.*`; a plain T5ForConditionalGeneration expects `encoder.*` and
`encoder.block.{i}.*` (loaded unchanged, the encoder would stay random with only a warning). This renames the keys
(FiDT5.unwrap_encoder's mapping) and nothing else. Needs only torch.

    /usr/bin/python3 eval/kat/convert_kat_checkpoint.py base_both_knowledge/ kat-base-t5/ [--tokenizer t5-base-dir/]

SRC is KAT's checkpoint folder (pytorch_model.bin + config.json, as save_pretrained wrote it) or a state-dict file.
OUT gets pytorch_model.bin, config.json (architectures: T5ForConditionalGeneration) and, with --tokenizer, the
tokenizer files of that folder (KAT used the `t5-base` / `t5-large` tokenizer).
"""
import argparse
import json
import os
import re
import shutil
import sys

import torch

BLOCK = re.compile(r'^encoder\.block\.(\d+)\.module\.')
TOKENIZER_FILES = ('tokenizer.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json')


def rename_key(key):
    """FiD key → plain T5 key (unchanged when it is not a wrapped encoder key)."""
    if key.startswith('module.'):  # a DistributedDataParallel prefix, if a state dict was saved from the wrapper
        key = key[len('module.'):]
    if key.startswith('encoder.encoder.'):
        key = 'encoder.' + key[len('encoder.encoder.'):]
    return BLOCK.sub(lambda m: 'encoder.block.{}.'.format(m.group(1)), key)


def convert_state_dict(state):
    out = {}
    renamed = 0
    for k, v in state.items():
        nk = rename_key(k)
        renamed += nk != k
        if nk in out:
            raise ValueError('two keys map to {!r}'.format(nk))
        out[nk] = v
    if not any(k.startswith('encoder.block.') for k in out):
        raise ValueError('no encoder blocks found: is this a T5/FiD state dict?')
    left = [k for k in out if '.module.' in k]
    if left:
        raise ValueError('wrapped keys left after renaming: {}'.format(left[:3]))
    if 'encoder.embed_tokens.weight' not in out and 'shared.weight' in out:
        out['encoder.embed_tokens.weight'] = out['shared.weight']  # tied in T5
    return out, renamed


def load_state(src):
    path = os.path.join(src, 'pytorch_model.bin') if os.path.isdir(src) else src
    state = torch.load(path, map_location='cpu')
    if isinstance(state, dict) and 'state_dict' in state and isinstance(state['state_dict'], dict):
        state = state['state_dict']
    elif isinstance(state, dict) and 'model' in state and isinstance(state['model'], dict):
        state = state['model']
    return state


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('src')
    ap.add_argument('out')
    ap.add_argument('--tokenizer', help='folder with the T5 tokenizer files to copy into OUT')
    a = ap.parse_args(argv)
    state = load_state(a.src)
    out, renamed = convert_state_dict(state)
    os.makedirs(a.out, exist_ok=True)
    torch.save(out, os.path.join(a.out, 'pytorch_model.bin'))
    cfg_path = os.path.join(a.src, 'config.json') if os.path.isdir(a.src) else None
    if cfg_path and os.path.exists(cfg_path):
        cfg = json.load(open(cfg_path))
        cfg['architectures'] = ['T5ForConditionalGeneration']
        json.dump(cfg, open(os.path.join(a.out, 'config.json'), 'w'), indent=2)
    if a.tokenizer:
        for f in TOKENIZER_FILES:
            if os.path.exists(os.path.join(a.tokenizer, f)):
                shutil.copy(os.path.join(a.tokenizer, f), os.path.join(a.out, f))
    print(json.dumps({'keys': len(out), 'renamed': renamed, 'out': a.out}))


if __name__ == '__main__':
    sys.exit(main())
