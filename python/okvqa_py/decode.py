"""Token ids -> answer text, as okvqa's `reader.fid` decodes them (transformers.js `tokenizer.decode(ids,
{skip_special_tokens: true})` then `trim()`), read from the checkpoint's tokenizer.json; written here because the
`tokenizers` Python module is not installed. Decoding only: encoding (Unigram / BPE segmentation) is not done in Python at
all — `okvqa export fid --tokenizer` writes the token ids with reader.fid's own tokenizer code, so training and inference
cannot tokenise differently.

What it reproduces: ids -> vocabulary pieces (unknown ids -> the unk piece), special tokens dropped, the Metaspace decoder
(the replacement character becomes a space, the first piece loses its leading space), transformers' clean-up of
tokenization spaces (" ." -> "." etc.) when tokenizer_config.json's `clean_up_tokenization_spaces` is true (the default),
then strip. Other decoders (byte-level BPE, WordPiece) are refused with a clear error.
"""
import json
import os


class AnswerDecoder:
    def __init__(self, folder):
        path = os.path.join(folder, 'tokenizer.json') if os.path.isdir(folder) else folder
        with open(path, encoding='utf-8') as f:
            tok = json.load(f)
        model = tok.get('model') or {}
        vocab = model.get('vocab')
        if isinstance(vocab, list):  # Unigram: [[piece, score], …]
            self.pieces = [v[0] for v in vocab]
        elif isinstance(vocab, dict):  # BPE / WordPiece: {piece: id}
            self.pieces = [None] * (max(vocab.values()) + 1)
            for p, i in vocab.items():
                self.pieces[i] = p
        else:
            raise ValueError('{}: no model.vocab'.format(path))
        self.special = set()
        for t in tok.get('added_tokens') or []:
            while len(self.pieces) <= t['id']:
                self.pieces.append(None)
            self.pieces[t['id']] = t['content']
            if t.get('special'):
                self.special.add(t['content'])
        unk = model.get('unk_id')
        self.unk = self.pieces[unk] if isinstance(unk, int) else model.get('unk_token', '<unk>')
        dec = tok.get('decoder') or {}
        if dec.get('type') != 'Metaspace':
            raise ValueError('{}: decoder {!r} is not supported (Metaspace, as T5 tokenizers use)'.format(path, dec.get('type')))
        self.replacement = dec.get('replacement', '\u2581')
        cfg_path = os.path.join(os.path.dirname(path), 'tokenizer_config.json')
        cfg = {}
        if os.path.exists(cfg_path):
            with open(cfg_path, encoding='utf-8') as f:
                cfg = json.load(f)
        self.clean_up = cfg.get('clean_up_tokenization_spaces', True) is not False

    def decode(self, ids):
        pieces = []
        for i in ids:
            p = self.pieces[i] if 0 <= i < len(self.pieces) and self.pieces[i] is not None else self.unk
            if p in self.special:
                continue
            pieces.append(p)
        out = []
        for k, p in enumerate(pieces):
            s = p.replace(self.replacement, ' ')
            if k == 0 and s.startswith(' '):
                s = s[1:]
            out.append(s)
        text = ''.join(out)
        if self.clean_up:
            for a, b in ((' .', '.'), (' ?', '?'), (' !', '!'), (' ,', ','), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                         (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
                text = text.replace(a, b)
        return text.strip()
