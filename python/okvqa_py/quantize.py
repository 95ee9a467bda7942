#!/usr/bin/python3
"""Dynamic int8 quantization of an ONNX reader's MatMul weights (the `q8` files transformers.js loads).

    PYTHONPATH=python /usr/bin/python3 -m okvqa_py.quantize MODEL_DIR/onnx [--form portable|fused] [--per-tensor]

For every fp32 model file of the T5 layout in the folder (encoder_model.onnx, decoder_model_merged.onnx, and the older
pair decoder_model.onnx + decoder_with_past_model.onnx) writes `<name>_quantized.onnx` beside it, the suffix
transformers.js reads for `dtype: q8`. Nothing else in the folder changes.

What the rewrite does (ONNX Runtime's `quantize_dynamic` does the same for MatMul; onnxruntime's Python package is not
installed here, so this is a graph rewrite with the `onnx` package, written from the ONNX operator specifications):
every MatMul whose second input is a 2-D float32 initializer W [K, N] (in the main graph or inside an If branch) gets
  - W stored as int8, symmetric, one scale per output column: s_n = max_k |W[k, n]| / 127, W_q = round(W / s_n), zero 0;
  - its activation A quantized at run time to uint8 (DynamicQuantizeLinear: asymmetric, per tensor);
  - form `portable` (default): MatMulInteger(A_q, W_q, a_zero, 0) -> Cast float -> Mul(Mul(a_scale, s)), standard ONNX
    operators only (onnxruntime-web runs them too); onnxruntime fuses the pattern into its DynamicQuantizeMatMul kernel
    at session creation (graph optimisation level "extended", onnxruntime-node's default "all" included);
  - form `fused`: onnxruntime's com.microsoft DynamicQuantizeMatMul(A, W_q, s, 0) directly (onnxruntime only).
Gather (the embedding table), the attention products between activations, norms and everything else stay fp32. A weight
that some other node also reads keeps its fp32 copy for that node. The activation of several MatMuls that read the same
tensor (the q, k and v projections) is quantized once in the portable form.

Per-column scales (the default; `--per-tensor` for one scale per matrix) keep a column with small weights from losing
its precision to a large column elsewhere in the matrix. u8 x s8 is the operand pair x86 VNNI (vpdpbusd) multiplies
natively.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MODEL_FILES = ("encoder_model", "decoder_model_merged", "decoder_model", "decoder_with_past_model")
SUFFIX = "_quantized"
MS_DOMAIN = "com.microsoft"


def quantize_weight(w, per_column=True):
    """Symmetric int8 with zero point 0: (W_q int8 [K, N], scale float32 [N] or [])."""
    w = np.asarray(w, dtype=np.float32)
    if per_column:
        amax = np.abs(w).max(axis=0)
    else:
        amax = np.array(np.abs(w).max(), dtype=np.float32)
    scale = (amax / 127.0).astype(np.float32)
    scale = np.where(scale > 0, scale, np.float32(1.0)).astype(np.float32)
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
    return q, scale


def _subgraphs(node):
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            yield a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            yield from a.graphs


def _all_graphs(graph):
    yield graph
    for n in graph.node:
        for sg in _subgraphs(n):
            yield from _all_graphs(sg)


class Rewriter:
    def __init__(self, model, form="portable", per_column=True, min_elements=0):
        self.model = model
        self.form = form
        self.per_column = per_column
        self.min_elements = min_elements
        self.main = model.graph
        self.inits = {i.name: i for g in _all_graphs(self.main) for i in g.initializer}
        self.uses = {}
        for g in _all_graphs(self.main):
            for n in g.node:
                for x in n.input:
                    self.uses[x] = self.uses.get(x, 0) + 1
            for o in g.output:
                self.uses[o.name] = self.uses.get(o.name, 0) + 1
        self.quantized = {}  # weight name -> (q name, scale name, zero name)
        self.taken = {n for g in _all_graphs(self.main) for n in [*(x.name for x in g.initializer), *(o for nd in g.node for o in nd.output), *(i.name for i in g.input)]}
        self.count = 0
        self.replaced = 0

    def fresh(self, base):
        self.count += 1
        name = f"{base}_q8_{self.count}"
        while name in self.taken:
            self.count += 1
            name = f"{base}_q8_{self.count}"
        self.taken.add(name)
        return name

    def weight_of(self, node):
        if node.op_type != "MatMul" or len(node.input) != 2:
            return None
        init = self.inits.get(node.input[1])
        if init is None or init.data_type != TensorProto.FLOAT or len(init.dims) != 2:
            return None
        if init.dims[0] * init.dims[1] < self.min_elements:
            return None
        return init

    def quantized_weight(self, init):
        if init.name not in self.quantized:
            q, scale = quantize_weight(numpy_helper.to_array(init), self.per_column)
            qn, sn, zn = self.fresh(init.name + "_int8"), self.fresh(init.name + "_scale"), self.fresh(init.name + "_zero")
            zero = np.zeros(scale.shape, dtype=np.int8)
            self.main.initializer.extend([numpy_helper.from_array(q, qn), numpy_helper.from_array(scale, sn), numpy_helper.from_array(zero, zn)])
            self.quantized[init.name] = (qn, sn, zn)
        return self.quantized[init.name]

    def rewrite(self, graph):
        nodes = list(graph.node)
        out = []
        activation = {}  # activation name -> (a_q, a_scale, a_zero) of this graph
        for node in nodes:
            for sg in _subgraphs(node):
                self.rewrite(sg)
            init = self.weight_of(node)
            if init is None:
                out.append(node)
                continue
            a, y = node.input[0], node.output[0]
            qn, sn, zn = self.quantized_weight(init)
            self.uses[init.name] -= 1
            self.replaced += 1
            base = node.name or y
            if self.form == "fused":
                out.append(helper.make_node("DynamicQuantizeMatMul", [a, qn, sn, zn], [y], name=self.fresh(base), domain=MS_DOMAIN))
                continue
            if a not in activation:
                aq, asc, az = self.fresh(a + "_u8"), self.fresh(a + "_scale"), self.fresh(a + "_zero")
                out.append(helper.make_node("DynamicQuantizeLinear", [a], [aq, asc, az], name=self.fresh(base + "_dql")))
                activation[a] = (aq, asc, az)
            aq, asc, az = activation[a]
            acc, f, s = self.fresh(base + "_i32"), self.fresh(base + "_f32"), self.fresh(base + "_s")
            out.append(helper.make_node("MatMulInteger", [aq, qn, az, zn], [acc], name=self.fresh(base + "_mmi")))
            out.append(helper.make_node("Cast", [acc], [f], name=self.fresh(base + "_cast"), to=TensorProto.FLOAT))
            out.append(helper.make_node("Mul", [asc, sn], [s], name=self.fresh(base + "_scales")))
            out.append(helper.make_node("Mul", [f, s], [y], name=self.fresh(base + "_mul")))
        del graph.node[:]
        graph.node.extend(out)

    def run(self):
        self.rewrite(self.main)
        # drop fp32 weights nothing reads any more (from whichever graph holds them)
        for g in _all_graphs(self.main):
            keep = [i for i in g.initializer if not (i.name in self.quantized and self.uses.get(i.name, 0) <= 0)]
            del g.initializer[:]
            g.initializer.extend(keep)
        if self.form == "fused" and not any(o.domain == MS_DOMAIN for o in self.model.opset_import):
            self.model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
        # DynamicQuantizeLinear and MatMulInteger exist from opset 10/11: every model this reads is newer
        return self.replaced


def quantize_model(src, dst, form="portable", per_column=True, min_elements=0):
    """Quantize one ONNX file; returns the number of MatMul nodes rewritten."""
    model = onnx.load(src)
    n = Rewriter(model, form, per_column, min_elements).run()
    if n == 0:
        raise SystemExit(f"quantize: {src} has no MatMul with a 2-D float32 weight: nothing to quantize")
    if form == "portable":
        onnx.checker.check_model(model)
    size = model.ByteSize()
    if size > 2_000_000_000:
        onnx.save(model, dst, save_as_external_data=True, location=os.path.basename(dst) + "_data")
    else:
        onnx.save(model, dst)
    return n


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m okvqa_py.quantize", description=__doc__.split("\n\n")[0])
    ap.add_argument("onnx_dir", help="the model's onnx/ folder (or the model folder holding onnx/)")
    ap.add_argument("--form", choices=("portable", "fused"), default="portable",
                    help="portable: standard ONNX operators, fused by onnxruntime at load (default); fused: com.microsoft DynamicQuantizeMatMul")
    ap.add_argument("--per-tensor", action="store_true", help="one weight scale per matrix instead of one per output column")
    ap.add_argument("--min-elements", type=int, default=0, help="leave weights with fewer elements in fp32")
    a = ap.parse_args(argv)
    d = a.onnx_dir
    if not os.path.isfile(os.path.join(d, "encoder_model.onnx")) and os.path.isdir(os.path.join(d, "onnx")):
        d = os.path.join(d, "onnx")
    files = [f for f in MODEL_FILES if os.path.isfile(os.path.join(d, f + ".onnx"))]
    if not files:
        print(f"quantize: {d} holds none of {', '.join(f + '.onnx' for f in MODEL_FILES)}", file=sys.stderr)
        return 2
    for f in files:
        src, dst = os.path.join(d, f + ".onnx"), os.path.join(d, f + SUFFIX + ".onnx")
        n = quantize_model(src, dst, a.form, not a.per_tensor, a.min_elements)
        print(f"quantize: {dst}: {n} MatMul weights int8 ({os.path.getsize(dst) / 1e6:.1f} MB, fp32 {os.path.getsize(src) / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
