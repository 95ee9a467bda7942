"""Write a FiDT5 (model.py) as the ONNX files okvqa's reader.fid runs, in the layout optimum / the hub's Xenova/t5-* use:

    onnx/encoder_model.onnx          input_ids, attention_mask [B, L] int64 -> last_hidden_state [B, L, d]
    onnx/decoder_model_merged.onnx   input_ids [B, S], encoder_attention_mask [B, F], encoder_hidden_states [B, F, d],
                                     past_key_values.{i}.{decoder,encoder}.{key,value} [B, H, *, d_kv], use_cache_branch [1]
                                     -> logits [B, S, V], present.{i}.{decoder,encoder}.{key,value},
                                        cross_attention_scores.{i} [B, H, S, F]  (pre-softmax scores, mask and position
                                        bias added: what FiD's score_storage keeps, for passage attribution)
    onnx/visual_projection.onnx      region_features [B, R, F] -> visual_embeds [B, R, d]   (only with a projection)

The graphs are built node by node from the weights with onnx.helper rather than traced with torch.onnx.export: tracing
T5 under torch 1.13 bakes sequence lengths into the relative-position code and cannot express the merged decoder's
use_cache_branch, and the hand-built graph is deterministic (same weights -> byte-identical initialisers, whatever
layout the checkpoint came in).

Relative position buckets are computed in the graph for whatever lengths arrive (no fixed table: any passage length,
any number of decoding steps): bucket = n below max_exact, else max_exact + #{thresholds <= n}, where the thresholds are
the smallest distances at which model.relative_position_bucket (transformers' float32 formula) moves to the next bucket,
so the graph reproduces that formula exactly at every distance. Linear weights are stored transposed ([in, out], named
`<key>.T`); the LM head is a Gemm over the stored [V, d] matrix (transB), so a tied head shares the embedding initialiser.
"""
import math
import os

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from .model import relative_position_bucket

OPSET = 17
# protobuf's limit is 2 GiB; above this a graph keeps its weights in `<file>_data` (transformers.js: use_external_data_format)
EXTERNAL_DATA_BYTES = int(1.8e9)


def bucket_thresholds(num_buckets, max_distance):
    """Smallest distance n (>= max_exact) at which each bucket above max_exact starts, for the causal half-formula
    (the bidirectional formula is the same on num_buckets // 2 with |n| and an offset)."""
    max_exact = num_buckets // 2
    n = torch.arange(0, 4 * max_distance + 4 * num_buckets + 16)
    b = relative_position_bucket(-n, False, num_buckets, max_distance).tolist()
    if any(b[i] > b[i + 1] for i in range(len(b) - 1)):
        raise ValueError('relative position buckets are not monotone in the distance')
    thresholds = []
    for k in range(max_exact + 1, num_buckets):
        if k not in b:
            raise ValueError('relative position bucket {} is never reached (num_buckets {}, max_distance {})'.format(
                k, num_buckets, max_distance))
        thresholds.append(float(b.index(k)))
    return thresholds


class Builder:
    def __init__(self, weights, cfg):
        self.W, self.cfg = weights, cfg
        self.nodes, self.inits, self.named, self.n = [], [], set(), 0

    def name(self, prefix):
        self.n += 1
        return '{}_{}'.format(prefix, self.n)

    def init(self, name, array):
        if name not in self.named:
            self.named.add(name)
            self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def w(self, key):
        return self.init(key, self.W[key])

    def wt(self, key):
        """A Linear weight [out, in] stored transposed for MatMul."""
        return self.init(key + '.T', self.W[key].T)

    def const(self, value, dtype):
        return self.init(self.name('c'), np.array(value, dtype))

    def f32(self, v):
        return self.const(v, np.float32)

    def i64(self, v):
        return self.const(v, np.int64)

    def op(self, op_type, inputs, out=None, **attrs):
        o = out or self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [o], **attrs))
        return o

    # --- pieces --------------------------------------------------------------------------------------------------------
    def dim(self, tensor, axis):
        return self.op('Slice', [self.op('Shape', [tensor]), self.i64([axis]), self.i64([axis + 1])])

    def rms(self, x, key):
        var = self.op('ReduceMean', [self.op('Mul', [x, x])], axes=[-1], keepdims=1)
        inv = self.op('Reciprocal', [self.op('Sqrt', [self.op('Add', [var, self.f32(self.cfg.layer_norm_epsilon)])])])
        return self.op('Mul', [self.op('Mul', [x, inv]), self.w(key)])

    def linear(self, x, key):
        return self.op('MatMul', [x, self.wt(key)])

    def heads(self, t):
        t = self.op('Reshape', [t, self.i64([0, 0, self.cfg.num_heads, self.cfg.d_kv])])
        return self.op('Transpose', [t], perm=[0, 2, 1, 3])

    def attend(self, q, k, v, bias, o_key, scores_out=None):
        s = self.op('Add', [self.op('MatMul', [q, self.op('Transpose', [k], perm=[0, 1, 3, 2])]), bias], out=scores_out)
        p = self.op('Softmax', [s], axis=-1)
        o = self.op('Transpose', [self.op('MatMul', [p, v])], perm=[0, 2, 1, 3])
        o = self.op('Reshape', [o, self.i64([0, 0, self.cfg.num_heads * self.cfg.d_kv])])
        return self.linear(o, o_key)

    def act(self, a):
        name = self.cfg.act
        if name == 'relu':
            return self.op('Relu', [a])
        if name == 'gelu':  # erf form
            e = self.op('Erf', [self.op('Mul', [a, self.f32(1 / math.sqrt(2))])])
            return self.op('Mul', [self.op('Mul', [a, self.f32(0.5)]), self.op('Add', [e, self.f32(1.0)])])
        if name == 'silu':
            return self.op('Mul', [a, self.op('Sigmoid', [a])])
        cube = self.op('Mul', [self.op('Mul', [a, a]), a])  # gelu_new (tanh)
        inner = self.op('Mul', [self.op('Add', [a, self.op('Mul', [cube, self.f32(0.044715)])]), self.f32(math.sqrt(2 / math.pi))])
        return self.op('Mul', [self.op('Mul', [a, self.f32(0.5)]), self.op('Add', [self.op('Tanh', [inner]), self.f32(1.0)])])

    def ff(self, x, p):
        h = self.rms(x, p + '.layer_norm.weight')
        d = p + '.DenseReluDense.'
        if self.cfg.is_gated:
            g = self.op('Mul', [self.act(self.linear(h, d + 'wi_0.weight')), self.linear(h, d + 'wi_1.weight')])
        else:
            g = self.act(self.linear(h, d + 'wi.weight'))
        return self.op('Add', [x, self.linear(g, d + 'wo.weight')])

    def positions(self, start, length):
        """float positions start .. start+length-1 (start, length: int64 [1])."""
        s = self.op('Squeeze', [start, self.i64([0])])
        e = self.op('Squeeze', [self.op('Add', [start, length]), self.i64([0])])
        return self.op('Cast', [self.op('Range', [s, e, self.i64(1)])], to=TensorProto.FLOAT)

    def position_bias(self, key, q_pos, k_pos, bidirectional):
        """[1, H, Q, K] bias of relative_attention_bias `key` for float positions q_pos [Q], k_pos [K]."""
        rel = self.op('Sub', [self.op('Unsqueeze', [k_pos, self.i64([0])]), self.op('Unsqueeze', [q_pos, self.i64([1])])])
        nb = self.cfg.relative_attention_num_buckets
        if bidirectional:
            nb //= 2
            offset = self.op('Mul', [self.op('Cast', [self.op('Greater', [rel, self.f32(0.0)])], to=TensorProto.FLOAT), self.f32(float(nb))])
            n = self.op('Abs', [rel])
        else:
            offset = None
            n = self.op('Max', [self.op('Neg', [rel]), self.f32(0.0)])
        exact = nb // 2
        thr = bucket_thresholds(nb, self.cfg.relative_attention_max_distance)
        if thr:
            ge = self.op('GreaterOrEqual', [self.op('Unsqueeze', [n, self.i64([-1])]), self.f32(thr)])
            large = self.op('Add', [self.op('ReduceSum', [self.op('Cast', [ge], to=TensorProto.FLOAT), self.i64([-1])], keepdims=0),
                                    self.f32(float(exact))])
        else:
            large = self.op('Mul', [n, self.f32(0.0)])
            large = self.op('Add', [large, self.f32(float(exact))])
        b = self.op('Where', [self.op('Less', [n, self.f32(float(exact))]), n, large])
        if offset:
            b = self.op('Add', [b, offset])
        idx = self.op('Cast', [b], to=TensorProto.INT64)
        table = self.op('Gather', [self.w(key), idx])  # [Q, K, H]
        return self.op('Unsqueeze', [self.op('Transpose', [table], perm=[2, 0, 1]), self.i64([0])])

    def mask_bias(self, mask):
        """[B, K] int64 mask -> [B, 1, 1, K] additive bias (0 or -1e9), as transformers' invert_attention_mask."""
        m = self.op('Cast', [mask], to=TensorProto.FLOAT)
        m = self.op('Mul', [self.op('Sub', [self.f32(1.0), m]), self.f32(-1e9)])
        return self.op('Unsqueeze', [m, self.i64([1, 2])])

    def save(self, path, name, inputs, outputs, external_bytes=EXTERNAL_DATA_BYTES):
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='okvqa-reader-import')
        model.ir_version = 8
        size = sum(t.ByteSize() for t in self.inits)
        external = size > external_bytes
        if not external:
            onnx.checker.check_model(model)
        data = os.path.basename(path) + '_data'
        if os.path.exists(path + '_data'):
            os.remove(path + '_data')
        onnx.save_model(model, path, save_as_external_data=external, all_tensors_to_one_file=True, location=data,
                        size_threshold=1024)
        if external:
            onnx.checker.check_model(path)
        return external


def fint(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def iint(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.INT64, shape)


def weights_of(model):
    """float32 numpy arrays of the model's parameters by plain T5 key (embedding aliases dropped)."""
    out = {}
    for k, v in model.state_dict().items():
        if k in ('encoder.embed_tokens.weight', 'decoder.embed_tokens.weight'):
            continue
        if k == 'lm_head.weight' and model.config.tie_word_embeddings:
            continue
        out[k] = v.detach().cpu().to(torch.float32).numpy()
    return out


def encoder_graph(W, cfg, path, **kw):
    g = Builder(W, cfg)
    x = g.op('Gather', [g.w('shared.weight'), 'input_ids'])
    pos = g.positions(g.i64([0]), g.dim('input_ids', 1))
    bias = g.op('Add', [g.position_bias('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', pos, pos, True),
                        g.mask_bias('attention_mask')])
    for i in range(cfg.num_layers):
        p = 'encoder.block.{}.layer.'.format(i)
        h = g.rms(x, p + '0.layer_norm.weight')
        a = p + '0.SelfAttention.'
        q, k, v = (g.heads(g.linear(h, a + m + '.weight')) for m in 'qkv')
        x = g.op('Add', [x, g.attend(q, k, v, bias, a + 'o.weight')])
        x = g.ff(x, p + '1')
    g.rms(x, 'encoder.final_layer_norm.weight')
    g.nodes[-1].output[0] = 'last_hidden_state'
    return g.save(path, 't5_encoder', [iint('input_ids', ['batch_size', 'encoder_sequence_length']),
                                       iint('attention_mask', ['batch_size', 'encoder_sequence_length'])],
                  [fint('last_hidden_state', ['batch_size', 'encoder_sequence_length', cfg.d_model])], **kw)


def decoder_graph(W, cfg, path, **kw):
    g = Builder(W, cfg)
    H, dk, layers = cfg.num_heads, cfg.d_kv, cfg.num_decoder_layers
    x = g.op('Gather', [g.w('shared.weight'), 'input_ids'])
    S = g.dim('input_ids', 1)
    P = g.dim('past_key_values.0.decoder.key', 2)
    qpos = g.positions(P, S)
    kpos = g.positions(g.i64([0]), g.op('Add', [P, S]))
    self_bias = g.position_bias('decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight', qpos, kpos, False)
    future = g.op('Greater', [g.op('Unsqueeze', [kpos, g.i64([0])]), g.op('Unsqueeze', [qpos, g.i64([1])])])
    causal = g.op('Mul', [g.op('Cast', [future], to=TensorProto.FLOAT), g.f32(-1e9)])
    self_bias = g.op('Add', [self_bias, causal])
    cross_bias = g.mask_bias('encoder_attention_mask')
    if cfg.okvqa_cross_attention_bias:  # transformers 3.0.2: causal buckets of (encoder position - decoder position)
        epos = g.positions(g.i64([0]), g.dim('encoder_attention_mask', 1))
        cross_bias = g.op('Add', [cross_bias, g.position_bias(
            'decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight', qpos, epos, False)])
    for i in range(layers):
        p = 'decoder.block.{}.layer.'.format(i)
        h = g.rms(x, p + '0.layer_norm.weight')
        a = p + '0.SelfAttention.'
        q = g.heads(g.linear(h, a + 'q.weight'))
        for m in ('key', 'value'):
            new = g.heads(g.linear(h, a + m[0] + '.weight'))
            g.op('Concat', ['past_key_values.{}.decoder.{}'.format(i, m), new], out='present.{}.decoder.{}'.format(i, m), axis=2)
        x = g.op('Add', [x, g.attend(q, 'present.{}.decoder.key'.format(i), 'present.{}.decoder.value'.format(i), self_bias, a + 'o.weight')])
        h = g.rms(x, p + '1.layer_norm.weight')
        c = p + '1.EncDecAttention.'
        q = g.heads(g.linear(h, c + 'q.weight'))
        # cross keys/values: from the cache when use_cache_branch, else computed from encoder_hidden_states
        outer, g.nodes = g.nodes, []
        g.op('Identity', ['past_key_values.{}.encoder.key'.format(i)], out='cache_k_{}'.format(i))
        g.op('Identity', ['past_key_values.{}.encoder.value'.format(i)], out='cache_v_{}'.format(i))
        then_nodes, g.nodes = g.nodes, []
        g.heads(g.linear('encoder_hidden_states', c + 'k.weight'))
        g.nodes[-1].output[0] = 'enc_k_{}'.format(i)
        g.heads(g.linear('encoder_hidden_states', c + 'v.weight'))
        g.nodes[-1].output[0] = 'enc_v_{}'.format(i)
        else_nodes, g.nodes = g.nodes, outer
        info = lambda n: helper.make_tensor_value_info(n, TensorProto.FLOAT, None)  # noqa: E731
        ek, ev = 'present.{}.encoder.key'.format(i), 'present.{}.encoder.value'.format(i)
        g.nodes.append(helper.make_node(
            'If', ['use_cache_branch'], [ek, ev],
            then_branch=helper.make_graph(then_nodes, 'cached_{}'.format(i), [], [info('cache_k_{}'.format(i)), info('cache_v_{}'.format(i))]),
            else_branch=helper.make_graph(else_nodes, 'computed_{}'.format(i), [], [info('enc_k_{}'.format(i)), info('enc_v_{}'.format(i))])))
        x = g.op('Add', [x, g.attend(q, ek, ev, cross_bias, c + 'o.weight', scores_out='cross_attention_scores.{}'.format(i))])
        x = g.ff(x, p + '2')
    h = g.rms(x, 'decoder.final_layer_norm.weight')
    if cfg.tie_word_embeddings:
        h = g.op('Mul', [h, g.f32(cfg.d_model ** -0.5)])
        head = g.w('shared.weight')
    else:
        head = g.w('lm_head.weight')
    flat = g.op('Reshape', [h, g.i64([-1, cfg.d_model])])
    logits = g.op('Gemm', [flat, head], transB=1)
    shape = g.op('Concat', [g.dim('input_ids', 0), S, g.i64([cfg.vocab_size])], axis=0)
    g.op('Reshape', [logits, shape], out='logits')
    inputs = [iint('input_ids', ['batch_size', 'decoder_sequence_length']),
              iint('encoder_attention_mask', ['batch_size', 'encoder_sequence_length']),
              fint('encoder_hidden_states', ['batch_size', 'encoder_sequence_length', cfg.d_model])]
    outputs = [fint('logits', ['batch_size', 'decoder_sequence_length', cfg.vocab_size])]
    for i in range(layers):
        for kind, past in (('decoder', 'past_decoder_sequence_length'), ('encoder', 'encoder_sequence_length_out')):
            for m in ('key', 'value'):
                inputs.append(fint('past_key_values.{}.{}.{}'.format(i, kind, m), ['batch_size', H, past, dk]))
                outputs.append(fint('present.{}.{}.{}'.format(i, kind, m), ['batch_size', H, None, dk]))
    for i in range(layers):
        outputs.append(fint('cross_attention_scores.{}'.format(i), ['batch_size', H, 'decoder_sequence_length', 'encoder_sequence_length']))
    inputs.append(helper.make_tensor_value_info('use_cache_branch', TensorProto.BOOL, [1]))
    return g.save(path, 't5_decoder_merged', inputs, outputs, **kw)


def visual_graph(W, cfg, path, **kw):
    g = Builder(W, cfg)
    y = g.op('Add', [g.linear('region_features', 'visual_projection.weight'), g.w('visual_projection.bias')])
    g.op('Identity', [y], out='visual_embeds')
    width = int(W['visual_projection.weight'].shape[1])
    return g.save(path, 'visual_projection', [fint('region_features', ['batch_size', 'num_regions', width])],
                  [fint('visual_embeds', ['batch_size', 'num_regions', cfg.d_model])], **kw)


def write_onnx(model, out_dir, external_bytes=EXTERNAL_DATA_BYTES):
    """Write the graphs under out_dir/onnx; returns {file: uses external data}."""
    d = os.path.join(out_dir, 'onnx')
    os.makedirs(d, exist_ok=True)
    W, cfg = weights_of(model), model.config
    written = {
        'encoder_model.onnx': encoder_graph(W, cfg, os.path.join(d, 'encoder_model.onnx'), external_bytes=external_bytes),
        'decoder_model_merged.onnx': decoder_graph(W, cfg, os.path.join(d, 'decoder_model_merged.onnx'), external_bytes=external_bytes),
    }
    if model.visual_projection is not None:
        written['visual_projection.onnx'] = visual_graph(W, cfg, os.path.join(d, 'visual_projection.onnx'), external_bytes=external_bytes)
    elif os.path.exists(os.path.join(d, 'visual_projection.onnx')):
        os.remove(os.path.join(d, 'visual_projection.onnx'))  # a stale projection from an earlier import
    return written
