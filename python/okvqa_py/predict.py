"""Greedy answers of a torch reader on an `okvqa export fid --tokenizer` file, as okvqa_py.train evaluates:

    PYTHONPATH=python /usr/bin/python3 -m okvqa_py.predict --model runs/reader/best --data val.json --out preds.json

Writes {question id: {"tokens": [...], "answer": "..."}} (tokens without the start token, up to and with EOS) and prints
the official VQA accuracy when the export has answers.
"""
import argparse
import json
import os

import torch

from .data import load_examples
from .decode import AnswerDecoder
from .model import load_reader
from .train import predict
from .vqa_metric import vqa_accuracy


def main(argv=None):
    p = argparse.ArgumentParser(prog='python -m okvqa_py.predict')
    p.add_argument('--model', required=True)
    p.add_argument('--data', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--tokenizer')
    p.add_argument('--device', default='cpu')
    p.add_argument('--regions', choices=['auto', 'on', 'off'], default='auto')
    p.add_argument('--text-maxlength', type=int, default=64)
    p.add_argument('--n-context', type=int, default=None)
    p.add_argument('--max-length', type=int, default=10)
    p.add_argument('--batch-size', type=int, default=8)
    a = p.parse_args(argv)
    examples = load_examples(a.data, need_answers=False)
    model, _ = load_reader(a.model)
    with_regions = a.regions == 'on' or (a.regions == 'auto' and model.visual_projection is not None and all('regions' in e for e in examples))
    device = torch.device(a.device)
    model.to(device)
    decoder = AnswerDecoder(a.tokenizer or a.model)
    preds = predict(model, examples, decoder, device, with_regions, a.text_maxlength, a.n_context, a.max_length, a.batch_size)
    with open(a.out, 'w', encoding='utf-8') as f:
        json.dump(preds, f)
    scored = [vqa_accuracy(preds[str(e['id'])]['answer'], e['answers']) for e in examples if e.get('answers')]
    print(json.dumps({'n': len(preds), 'regions': with_regions, 'accuracy': 100.0 * sum(scored) / len(scored) if scored else None}))


if __name__ == '__main__':
    main()
