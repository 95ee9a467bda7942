"""`okvqa export fid --tokenizer [--regions]` output as training batches for FiDT5, written from reading
facebookresearch/FiD `src/data.py` and guilk/KAT `src/data.py` (their `Dataset` / `OkvqaDataset` and `Collator`).

An example: `{id, question, answers, [target], ctxs, passage_ids, answer_ids, [regions]}` (src/export/fid.ts). The token
ids are what `reader.fid` encodes at inference (`question: {q} {passage}`, each passage tokenised alone, no EOS — KAT's
transformers 3.0.2 appended none — truncated to text_maxlength), so nothing is tokenised here.

- Target (FiD's and KAT's `get_target`): the example's fixed `target` when the export wrote one (`--target majority`),
  else one of the `answers` drawn at random each time the question is drawn (`random.choice(answers)`: an answer given by
  4 of the 10 annotators is drawn 4 times in 10), followed by EOS (KAT: `answer + ' </s>'`).
- Passages: the first `n_context` (FiD's `ctxs[:n_context]`; default all the reader read — KAT's n_context 40 applies to
  its explicit list, which the `kat` pipelines already cycle to 40, and its implicit passages come on top), each cut to
  `text_maxlength` tokens. A batch pads passages to the longest (KAT pads to text_maxlength: the padding is masked, so the
  result is the same) and questions with fewer passages get fully masked rows, as reader.fid lays out a batch.
- Regions (REVIVE): the rows reader.fid feeds as visual tokens, padded per batch with `region_mask`.
"""
import json
import random

import torch


class ExportError(ValueError):
    pass


def load_examples(path, need_answers=True, regions=False):
    """Read an export; checks it carries token ids (and region rows when `regions`)."""
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    if not isinstance(data, list) or not data:
        raise ExportError('{}: expected a non-empty JSON list of examples (okvqa export fid)'.format(path))
    for ex in data:
        qid = ex.get('id')
        if 'passage_ids' not in ex or 'answer_ids' not in ex:
            raise ExportError('{}: question {} has no passage_ids/answer_ids: export with `okvqa export fid --tokenizer <reader>` '
                              '(the ids come from the reader\'s own tokenizer)'.format(path, qid))
        if len(ex['answer_ids']) != len(ex.get('answers') or []):
            raise ExportError('{}: question {}: answer_ids and answers differ in length'.format(path, qid))
        if need_answers and not ex.get('answers'):
            raise ExportError('{}: question {} has no answers (training needs them)'.format(path, qid))
        if not ex['passage_ids']:
            raise ExportError('{}: question {} has no passages'.format(path, qid))
        if regions and 'regions' not in ex:
            raise ExportError('{}: question {} has no regions: export with `okvqa export fid --regions` for a REVIVE reader'.format(path, qid))
    return data


def region_width(examples):
    widths = {len(r) for ex in examples for r in ex.get('regions') or []}
    if len(widths) > 1:
        raise ExportError('region rows of different widths: {}'.format(sorted(widths)))
    return widths.pop() if widths else None


class ReaderDataset(torch.utils.data.Dataset):
    def __init__(self, examples, n_context=None, rng=None):
        self.examples = examples
        self.n_context = n_context
        self.rng = rng or random.Random(0)

    def __len__(self):
        return len(self.examples)

    def target_ids(self, ex):
        if 'target' in ex:
            if ex['target'] not in ex['answers']:
                raise ExportError('question {}: target {!r} is not among its answers (no token ids for it)'.format(ex['id'], ex['target']))
            return ex['answer_ids'][ex['answers'].index(ex['target'])]
        return ex['answer_ids'][self.rng.randrange(len(ex['answer_ids']))]

    def __getitem__(self, index):
        ex = self.examples[index]
        passages = ex['passage_ids'][:self.n_context] if self.n_context else ex['passage_ids']
        return {'index': index, 'passages': passages, 'target': self.target_ids(ex) if ex.get('answers') else None,
                'regions': ex.get('regions')}


def collate(batch, text_maxlength=64, pad_id=0, with_regions=False):
    """-> dict(index [B], input_ids [B,N,L], attention_mask [B,N,L], labels [B,T] (-100 padded) or None,
    region_features [B,R,F] / region_mask [B,R] or None)."""
    B = len(batch)
    passages = [[p[:text_maxlength] for p in b['passages']] for b in batch]
    N = max(len(p) for p in passages)
    L = max(1, max(len(x) for p in passages for x in p))
    ids = torch.full((B, N, L), pad_id, dtype=torch.long)
    mask = torch.zeros((B, N, L), dtype=torch.long)
    for b, ps in enumerate(passages):
        for n, p in enumerate(ps):
            ids[b, n, :len(p)] = torch.tensor(p, dtype=torch.long)
            mask[b, n, :len(p)] = 1
    out = {'index': torch.tensor([b['index'] for b in batch]), 'input_ids': ids, 'attention_mask': mask,
           'labels': None, 'region_features': None, 'region_mask': None}
    if all(b['target'] is not None for b in batch):
        T = max(len(b['target']) for b in batch)
        labels = torch.full((B, T), -100, dtype=torch.long)
        for i, b in enumerate(batch):
            labels[i, :len(b['target'])] = torch.tensor(b['target'], dtype=torch.long)
        out['labels'] = labels
    if with_regions:
        rows = [b['regions'] or [] for b in batch]
        R = max(len(r) for r in rows)
        Fw = next((len(r[0]) for r in rows if r), 0)
        feats = torch.zeros((B, R, Fw), dtype=torch.float32)
        rmask = torch.zeros((B, R), dtype=torch.long)
        for i, r in enumerate(rows):
            if r:
                feats[i, :len(r)] = torch.tensor(r, dtype=torch.float32)
                rmask[i, :len(r)] = 1
        out['region_features'], out['region_mask'] = feats, rmask
    return out
