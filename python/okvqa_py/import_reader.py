"""`python -m okvqa_py.import_reader CHECKPOINT --out DIR [--config CONFIG.json]`: what `okvqa reader import` runs.

Loads a T5 / FiD checkpoint with model.load_reader (a save_pretrained folder, KAT's released folder with FiDT5's wrapped
keys, or a bare state dict + config) and writes, into DIR, config.json, generation_config.json and the ONNX graphs of
onnx_writer (encoder, merged decoder with cross-attention scores, visual projection when the checkpoint has one).
Tokenizer files are the caller's job (the CLI copies them). Prints one JSON line: what was read and written, timings.
"""
import argparse
import json
import os
import sys
import time


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python -m okvqa_py.import_reader', description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('checkpoint')
    ap.add_argument('--out', required=True)
    ap.add_argument('--config', help='config.json for a bare state-dict file (default: the one beside the weights)')
    ap.add_argument('--external-data-bytes', type=float, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    t0 = time.time()
    import torch  # noqa: F401  (import cost counted in load_s)
    from .model import load_reader
    from .onnx_writer import EXTERNAL_DATA_BYTES, write_onnx
    try:
        model, info = load_reader(a.checkpoint, a.config)
    except (ValueError, FileNotFoundError) as e:
        print('okvqa_py.import_reader: {}'.format(e), file=sys.stderr)
        return 2
    t1 = time.time()
    os.makedirs(a.out, exist_ok=True)
    cfg = model.config.to_dict()
    cfg['architectures'] = ['T5ForConditionalGeneration']
    cfg['use_cache'] = True
    cfg['okvqa_import'] = {k: info[k] for k in ('layout', 'variant', 'cross_attention_bias', 'renamed_keys', 'config_defaults')}
    cfg['okvqa_import']['source'] = os.path.basename(os.path.normpath(a.checkpoint))
    ext_bytes = int(a.external_data_bytes) if a.external_data_bytes is not None else EXTERNAL_DATA_BYTES
    written = write_onnx(model, a.out, external_bytes=ext_bytes)
    external = {f: 1 for f, ext in written.items() if ext}
    if external:  # transformers.js loads `<file>_data` beside the graph when the config names it
        cfg['transformers.js_config'] = {'use_external_data_format': external}
    with open(os.path.join(a.out, 'config.json'), 'w', encoding='utf-8') as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write('\n')
    gen = {'decoder_start_token_id': model.config.decoder_start_token_id, 'eos_token_id': model.config.eos_token_id,
           'pad_token_id': model.config.pad_token_id}
    with open(os.path.join(a.out, 'generation_config.json'), 'w', encoding='utf-8') as f:
        json.dump(gen, f, indent=2)
        f.write('\n')
    t2 = time.time()
    info.update({'out': os.path.abspath(a.out), 'onnx': sorted(written), 'external_data': sorted(external),
                 'parameters': sum(p.numel() for p in model.parameters()), 'load_s': round(t1 - t0, 3),
                 'write_s': round(t2 - t1, 3), 'python': sys.executable})
    print(json.dumps(info))
    return 0


if __name__ == '__main__':
    sys.exit(main())
