"""The official VQA accuracy (GT-Vision-Lab/VQA `vqaEval.py`, master), written from reading it, for choosing the best
checkpoint while training (`okvqa_py.train`). The TypeScript `okvqa eval` (src/eval/vqa-accuracy.ts) is the project's
reference implementation; this one is checked against the official script's own output on the 1,500-question
adversarial fixture (test/fixtures/eval, test/reader/train-python.test.ts). Why a second implementation: the trainer
evaluates the held-out split every `--eval-freq` steps in-process, without Node.

    vqa_accuracy('two', ['2'] * 10)   # -> 1.0 (per question, 0..1)

Per question: answers and prediction get `\\n`/`\\t` -> space and strip; when the ten answers are not all identical, all of
them and the prediction are normalised (punctuation, then digits/articles/contractions); each answer is left out in turn
(answer objects compared by value, as the script compares dicts) and the prediction scores min(1, matches / 3) among the
others; the scores are averaged.
"""
import re

_PUNCT = [';', r'/', '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!']
_MANUAL = {'none': '0', 'zero': '0', 'one': '1', 'two': '2', 'three': '3', 'four': '4', 'five': '5', 'six': '6',
           'seven': '7', 'eight': '8', 'nine': '9', 'ten': '10'}
_ARTICLES = {'a', 'an', 'the'}
_PERIOD = re.compile(r'(?!<=\d)(\.)(?!\d)')
_COMMA = re.compile(r'(\d)(,)(\d)')
# the script passes re.UNICODE (32) as periodStrip.sub's count argument: at most 32 periods go
_PERIOD_COUNT = 32
# the official contraction table (keys that can never match after lower-casing included, as there)
_CONTRACTIONS = {
    "aint": "ain't",
    "arent": "aren't",
    "cant": "can't",
    "couldve": "could've",
    "couldnt": "couldn't",
    "couldn'tve": "couldn't've",
    "couldnt've": "couldn't've",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "dont": "don't",
    "hadnt": "hadn't",
    "hadnt've": "hadn't've",
    "hadn'tve": "hadn't've",
    "hasnt": "hasn't",
    "havent": "haven't",
    "hed": "he'd",
    "hed've": "he'd've",
    "he'dve": "he'd've",
    "hes": "he's",
    "howd": "how'd",
    "howll": "how'll",
    "hows": "how's",
    "Id've": "I'd've",
    "I'dve": "I'd've",
    "Im": "I'm",
    "Ive": "I've",
    "isnt": "isn't",
    "itd": "it'd",
    "itd've": "it'd've",
    "it'dve": "it'd've",
    "itll": "it'll",
    "let's": "let's",
    "maam": "ma'am",
    "mightnt": "mightn't",
    "mightnt've": "mightn't've",
    "mightn'tve": "mightn't've",
    "mightve": "might've",
    "mustnt": "mustn't",
    "mustve": "must've",
    "neednt": "needn't",
    "notve": "not've",
    "oclock": "o'clock",
    "oughtnt": "oughtn't",
    "ow's'at": "'ow's'at",
    "'ows'at": "'ow's'at",
    "'ow'sat": "'ow's'at",
    "shant": "shan't",
    "shed've": "she'd've",
    "she'dve": "she'd've",
    "she's": "she's",
    "shouldve": "should've",
    "shouldnt": "shouldn't",
    "shouldnt've": "shouldn't've",
    "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd",
    "somebodyd've": "somebody'd've",
    "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll",
    "somebodys": "somebody's",
    "someoned": "someone'd",
    "someoned've": "someone'd've",
    "someone'dve": "someone'd've",
    "someonell": "someone'll",
    "someones": "someone's",
    "somethingd": "something'd",
    "somethingd've": "something'd've",
    "something'dve": "something'd've",
    "somethingll": "something'll",
    "thats": "that's",
    "thered": "there'd",
    "thered've": "there'd've",
    "there'dve": "there'd've",
    "therere": "there're",
    "theres": "there's",
    "theyd": "they'd",
    "theyd've": "they'd've",
    "they'dve": "they'd've",
    "theyll": "they'll",
    "theyre": "they're",
    "theyve": "they've",
    "twas": "'twas",
    "wasnt": "wasn't",
    "wed've": "we'd've",
    "we'dve": "we'd've",
    "weve": "we've",
    "werent": "weren't",
    "whatll": "what'll",
    "whatre": "what're",
    "whats": "what's",
    "whatve": "what've",
    "whens": "when's",
    "whered": "where'd",
    "wheres": "where's",
    "whereve": "where've",
    "whod": "who'd",
    "whod've": "who'd've",
    "who'dve": "who'd've",
    "wholl": "who'll",
    "whos": "who's",
    "whove": "who've",
    "whyll": "why'll",
    "whyre": "why're",
    "whys": "why's",
    "wont": "won't",
    "wouldve": "would've",
    "wouldnt": "wouldn't",
    "wouldnt've": "wouldn't've",
    "wouldn'tve": "wouldn't've",
    "yall": "y'all",
    "yall'll": "y'all'll",
    "y'allll": "y'all'll",
    "yall'd've": "y'all'd've",
    "y'alld've": "y'all'd've",
    "y'all'dve": "y'all'd've",
    "youd": "you'd",
    "youd've": "you'd've",
    "you'dve": "you'd've",
    "youll": "you'll",
    "youre": "you're",
    "youve": "you've",}


def process_punctuation(text):
    out = text
    comma = _COMMA.search(text) is not None
    for p in _PUNCT:
        if (p + ' ' in text or ' ' + p in text) or comma:
            out = out.replace(p, '')
        else:
            out = out.replace(p, ' ')
    return _PERIOD.sub('', out, _PERIOD_COUNT)


def process_digit_article(text):
    words = []
    for w in text.lower().split():
        w = _MANUAL.get(w, w)
        if w not in _ARTICLES:
            words.append(w)
    return ' '.join(_CONTRACTIONS.get(w, w) for w in words)


def _clean(s):
    return s.replace('\n', ' ').replace('\t', ' ').strip()


def vqa_accuracy(prediction, answers):
    """Accuracy (0..1) of one prediction against its answers: strings (each a distinct answer object) or dicts with
    'answer' (compared by value, other keys included)."""
    gts = [dict(a, answer=_clean(a['answer'])) if isinstance(a, dict) else {'_i': i, 'answer': _clean(a)} for i, a in enumerate(answers)]
    if not gts:
        raise ValueError('no answers to score against')
    res = _clean(prediction)
    if len({g['answer'] for g in gts}) > 1:
        for g in gts:
            g['answer'] = process_digit_article(process_punctuation(g['answer']))
        res = process_digit_article(process_punctuation(res))
    accs = []
    for g in gts:
        others = [o for o in gts if o != g]
        accs.append(min(1.0, sum(1 for o in others if o['answer'] == res) / 3.0))
    return sum(accs) / len(accs)
