"""okvqa's torch-only Python tooling: the T5 / Fusion-in-Decoder reader (model.py), its ONNX writer (onnx_writer.py)
and `python -m okvqa_py.import_reader` (what `okvqa reader import` runs). Needs torch + numpy (+ onnx to write graphs);
no transformers, no optimum."""
