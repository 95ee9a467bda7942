"""Train a Fusion-in-Decoder reader (KAT's, or REVIVE's with regional visual tokens) from `okvqa export fid` output, the way
guilk/KAT's `train_KAT.py` trains (written from reading it and facebookresearch/FiD's `train_reader.py`; torch only):

    PYTHONPATH=python /usr/bin/python3 -m okvqa_py.train --train-data train.json --eval-data val.json \\
        --model t5-base-torch/ --out runs/reader [--device cuda] [--regions on]

- Optimiser and schedule as KAT's README command: AdamW (lr 3e-5, weight decay 0.01), linear warm-up (1,000 steps) then
  linear decay to 0 at `--total-steps` (8,000), gradient clipping at norm 1.0, `--accumulation-steps` (gradients summed,
  as KAT), text_maxlength 64, one question per step per process (KAT ran 16 processes: `--batch-size 16` is its effective
  batch on one device). KAT's `ModelEma` is updated but never evaluated or saved by train_KAT.py, so it is left out.
- Data (okvqa_py/data.py): the reader's own token ids from the export; the target drawn at random from the answers each
  time a question is drawn (FiD's Dataset), unless the export fixed one (`--target majority`); all the passages the reader
  read (`--n-context N` keeps the first N, FiD's `ctxs[:n_context]`).
- Evaluation every `--eval-freq` steps and at the end: greedy decoding with `max_length` 10 (KAT's), decoded as reader.fid
  decodes (okvqa_py/decode.py), scored by the official VQA accuracy (okvqa_py/vqa_metric.py, the official script's
  normalisation; KAT selected by its own `okvqa_ems`, which differs). The best checkpoint (strictly higher accuracy; the
  first evaluation always counts — KAT starts from 0.0 and so saves nothing while accuracy is 0) is written to
  `{out}/best` by save_reader, with the tokenizer files beside it, ready for `okvqa reader import`.
- REVIVE (`--regions on`, default `auto` = on when the export carries `regions`): each question's region rows (CLIP
  embedding ‖ normalised box, what reader.fid feeds) go through `visual_projection` into visual tokens after the fused
  passages; a checkpoint without a projection gets a fresh one of the export's width, learned jointly with the reader.
- Start from any checkpoint `load_reader` reads (a save_pretrained folder, KAT's released folder, a state dict + --config).

Writes `{out}/train-log.jsonl` (one line per step: loss, lr; one per evaluation: accuracy) and `{out}/best/training.json`.
"""
import argparse
import json
import math
import os
import random
import shutil
import sys
import time

import torch

from .data import ExportError, ReaderDataset, collate, load_examples, region_width
from .decode import AnswerDecoder
from .model import load_reader, save_reader
from .vqa_metric import vqa_accuracy

TOKENIZER_FILES = ('tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'spiece.model', 'generation_config.json')


def usage_error(message):
    """Refuse the arguments or inputs: the message on stderr, exit status 2 (argparse's; okvqa's usage/input error)."""
    print('okvqa_py.train: ' + message, file=sys.stderr)
    sys.exit(2)


def warmup_linear(warmup_steps, scheduler_steps, min_ratio=0.0, fixed_lr=False):
    """KAT's / FiD's WarmupLinearScheduler factor: linear from min_ratio to 1 over the warm-up, then linear to min_ratio at
    scheduler_steps (or constant with fixed_lr)."""
    def f(step):
        if step < warmup_steps:
            return (1 - min_ratio) * step / float(max(1, warmup_steps)) + min_ratio
        if fixed_lr:
            return 1.0
        return max(0.0, 1.0 + (min_ratio - 1) * (step - warmup_steps) / float(max(1.0, scheduler_steps - warmup_steps)))
    return f


def positive_int(text):
    """argparse type of a step count or batch size (the loop takes `step % N`): an integer >= 1."""
    try:
        v = int(text)
    except ValueError:
        v = 0
    if v < 1:
        raise argparse.ArgumentTypeError('must be a positive integer, got {!r}'.format(text))
    return v


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog='python -m okvqa_py.train', description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--train-data', required=True, help='okvqa export fid --tokenizer output (training split)')
    p.add_argument('--eval-data', required=True, help='the same for the held-out split the best checkpoint is chosen on')
    p.add_argument('--model', required=True, help='starting checkpoint: folder (config.json + pytorch_model.bin) or state dict')
    p.add_argument('--config', help='config.json for a bare state-dict --model')
    p.add_argument('--out', required=True, help='output folder (best/ checkpoint, train-log.jsonl)')
    p.add_argument('--tokenizer', help='folder with the tokenizer.json the export used (default: --model\'s folder)')
    p.add_argument('--device', default='cpu', help='cpu, cuda, cuda:N')
    p.add_argument('--regions', choices=['auto', 'on', 'off'], default='auto', help='REVIVE visual tokens from the export\'s regions')
    p.add_argument('--lr', type=float, default=3e-5)
    p.add_argument('--optim', choices=['adamw', 'adam'], default='adamw')
    p.add_argument('--scheduler', choices=['linear', 'fixed'], default='linear')
    p.add_argument('--weight-decay', type=float, default=0.01)
    p.add_argument('--warmup-steps', type=int, default=1000)
    p.add_argument('--total-steps', type=positive_int, default=8000)
    p.add_argument('--scheduler-steps', type=int, default=None, help='decay horizon (default: --total-steps)')
    p.add_argument('--fixed-lr', action='store_true', help='no decay after the warm-up')
    p.add_argument('--clip', type=float, default=1.0, help='gradient norm clipping')
    p.add_argument('--batch-size', type=positive_int, default=1, help='questions per step (KAT: 1 per GPU on 16 GPUs)')
    p.add_argument('--accumulation-steps', type=positive_int, default=1)
    p.add_argument('--eval-freq', type=positive_int, default=500)
    p.add_argument('--eval-batch-size', type=positive_int, default=8)
    p.add_argument('--text-maxlength', type=int, default=64)
    p.add_argument('--n-context', type=int, default=None, help='first N passages (default: all the reader read)')
    p.add_argument('--max-length', type=int, default=10, help='decoding length counting the start token (KAT 10)')
    p.add_argument('--dropout', type=float, default=None, help='override the config\'s dropout_rate (T5: 0.1)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--log-every', type=positive_int, default=50, help='progress line on stderr every N steps')
    return p.parse_args(argv)


def batches(dataset, batch_size, with_regions, text_maxlength, pad_id, shuffle, generator=None, drop_last=False):
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=batch_size, drop_last=drop_last, num_workers=0,
        sampler=torch.utils.data.RandomSampler(dataset, generator=generator) if shuffle else torch.utils.data.SequentialSampler(dataset),
        collate_fn=lambda b: collate(b, text_maxlength, pad_id, with_regions))
    return loader


def to_device(batch, device):
    return {k: (v.to(device) if torch.is_tensor(v) else v) for k, v in batch.items()}


def predict(model, examples, decoder, device, with_regions, text_maxlength=64, n_context=None, max_length=10, batch_size=8):
    """Greedy answers: {id: {'tokens': [...], 'answer': str}} (tokens without the start token, up to and with EOS)."""
    model.eval()
    ds = ReaderDataset(examples, n_context)
    out = {}
    eos = model.config.eos_token_id
    with torch.no_grad():
        for batch in batches(ds, batch_size, with_regions, text_maxlength, model.config.pad_token_id, shuffle=False):
            b = to_device(batch, device)
            gen = model.generate(b['input_ids'], b['attention_mask'], b['region_features'], b['region_mask'], max_length=max_length)
            for k, row in zip(batch['index'].tolist(), gen.tolist()):
                toks = []
                for t in row:
                    toks.append(t)
                    if t == eos:
                        break
                ex = examples[k]
                out[str(ex['id'])] = {'tokens': toks, 'answer': decoder.decode(toks)}
    return out


def evaluate(model, examples, decoder, device, with_regions, args):
    preds = predict(model, examples, decoder, device, with_regions, args.text_maxlength, args.n_context, args.max_length, args.eval_batch_size)
    scores = [vqa_accuracy(preds[str(ex['id'])]['answer'], ex['answers']) for ex in examples]
    return 100.0 * sum(scores) / len(scores), preds


def copy_tokenizer(src, dst):
    copied = []
    for f in TOKENIZER_FILES:
        if os.path.exists(os.path.join(src, f)):
            shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))
            copied.append(f)
    return copied


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        usage_error('--device {}: torch sees no CUDA device'.format(args.device))
    try:
        train = load_examples(args.train_data)
        dev = load_examples(args.eval_data)
    except (ExportError, OSError, ValueError) as e:
        usage_error(str(e))
    has_regions = all('regions' in ex for ex in train + dev)
    with_regions = args.regions == 'on' or (args.regions == 'auto' and has_regions)
    if with_regions and not has_regions:
        usage_error('--regions on: the exports carry no regions: export with `okvqa export fid --regions`')
    width = region_width(train + dev) if with_regions else None
    if with_regions and width is None:
        usage_error('--regions: the exports\' questions have no regions at all')
    try:
        model, info = load_reader(args.model, args.config, visual_features=width)
    except (OSError, ValueError) as e:
        usage_error(str(e))
    if with_regions and model.visual_projection is not None and model.visual_projection.in_features != width:
        usage_error('the checkpoint\'s visual projection takes {} features, the export\'s regions have {}'.format(
            model.visual_projection.in_features, width))
    if args.dropout is not None:
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = args.dropout
            if hasattr(m, 'dropout') and isinstance(m.dropout, float):
                m.dropout = args.dropout
    tok_dir = args.tokenizer or (args.model if os.path.isdir(args.model) else os.path.dirname(os.path.abspath(args.model)))
    decoder = AnswerDecoder(tok_dir)
    model.to(device)
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, 'train-log.jsonl'), 'w', encoding='utf-8')

    def emit(rec):
        log.write(json.dumps(rec) + '\n')
        log.flush()

    emit({'start': True, 'model': info, 'regions': with_regions, 'region_features': width, 'train': len(train), 'eval': len(dev),
          'args': vars(args)})
    if args.optim == 'adamw':
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    factor = (lambda s: 1.0) if args.scheduler == 'fixed' else warmup_linear(
        args.warmup_steps, args.scheduler_steps or args.total_steps, 0.0, args.fixed_lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    if len(train) < args.batch_size:
        usage_error('--batch-size {} exceeds the {} training questions'.format(args.batch_size, len(train)))
    ds = ReaderDataset(train, args.n_context, random.Random(args.seed))
    gen = torch.Generator()
    gen.manual_seed(args.seed)
    best, best_step, step, t0 = -math.inf, None, 0, time.time()
    window = []

    def checkpoint(step):
        nonlocal best, best_step
        acc, preds = evaluate(model, dev, decoder, device, with_regions, args)
        model.train()
        improved = acc > best
        if improved:
            best, best_step = acc, step
            dst = os.path.join(args.out, 'best')
            save_reader(model, dst)
            copied = copy_tokenizer(tok_dir, dst)
            with open(os.path.join(dst, 'training.json'), 'w', encoding='utf-8') as f:
                json.dump({'step': step, 'eval_accuracy': acc, 'metric': 'official VQA accuracy (okvqa_py.vqa_metric)',
                           'eval_data': os.path.abspath(args.eval_data), 'train_data': os.path.abspath(args.train_data),
                           'start_model': info['source'], 'regions': with_regions, 'tokenizer_files': copied,
                           'args': vars(args)}, f, indent=1)
            with open(os.path.join(dst, 'eval-predictions.json'), 'w', encoding='utf-8') as f:
                json.dump(preds, f)
        emit({'step': step, 'eval_accuracy': acc, 'best': improved})
        print('step {}/{}: eval accuracy {:.2f}{} ({:.0f}s)'.format(step, args.total_steps, acc, ' (best)' if improved else '',
                                                                    time.time() - t0), file=sys.stderr)

    model.train()
    model.zero_grad()
    while step < args.total_steps:
        for batch in batches(ds, args.batch_size, with_regions, args.text_maxlength, model.config.pad_token_id, True, gen, drop_last=True):
            step += 1
            b = to_device(batch, device)
            loss = model(b['input_ids'], b['attention_mask'], b['labels'], b['region_features'], b['region_mask'])
            loss.backward()
            if step % args.accumulation_steps == 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
                optimizer.step()
                scheduler.step()
                model.zero_grad()
            window.append(loss.item())
            emit({'step': step, 'loss': window[-1], 'lr': scheduler.get_last_lr()[0]})
            if step % args.log_every == 0:
                print('step {}/{}: loss {:.4f} lr {:.2e} ({:.0f}s)'.format(step, args.total_steps, sum(window) / len(window),
                                                                          scheduler.get_last_lr()[0], time.time() - t0), file=sys.stderr)
                window = []
            if step % args.eval_freq == 0:
                checkpoint(step)
            if step >= args.total_steps:
                break
    if best_step != step and step % args.eval_freq != 0:
        checkpoint(step)
    log.close()
    print(json.dumps({'best_eval_accuracy': best, 'best_step': best_step, 'steps': step, 'out': os.path.join(args.out, 'best'),
                      'seconds': round(time.time() - t0, 1)}))


if __name__ == '__main__':
    main()
