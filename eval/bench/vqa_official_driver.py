# Written for this project: runs the official VQA evaluator (GT-Vision-Lab/VQA vqa.py + vqaEval.py, prints converted
# to Python 3 by eval/bench/eval.js into a temporary folder) as its demo does, minus plotting:
#   python3 driver.py <dir with converted vqa.py/vqaEval.py> annotations.json questions.json results.json out.json
import json
import sys

sys.path.insert(0, sys.argv[1])
from vqa import VQA  # noqa: E402
from vqaEval import VQAEval  # noqa: E402

ann, ques, res, out = sys.argv[2:6]
vqa = VQA(ann, ques)
vqaRes = vqa.loadRes(res, ques)
vqaEval = VQAEval(vqa, vqaRes, n=2)
vqaEval.evaluate()
with open(out, 'w') as f:
    json.dump({'accuracy': vqaEval.accuracy, 'evalQA': {str(k): v for k, v in vqaEval.evalQA.items()}}, f)
