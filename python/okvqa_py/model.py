"""T5 and a Fusion-in-Decoder wrapper in plain torch, written from the T5 papers and from reading transformers 3.0.2's
`modeling_t5.py` (what KAT trained with) and guilk/KAT's `src/model.py`; no transformers import.

Why hand-written: transformers is not installed on these machines (torch only), and the behaviour KAT's checkpoints need
is that of one old version (3.0.2), which later releases changed.

    from okvqa_py.model import load_reader, save_reader
    model, info = load_reader('base_both_knowledge/')          # KAT's folder, a save_pretrained folder or a state dict
    loss = model(input_ids, attention_mask, labels)             # [B, N, L] passages per question, labels [B, T]
    tokens = model.generate(input_ids, attention_mask, max_length=10)

Two variants, chosen by `feed_forward_proj` (3.0.2 configs have none: "relu") and `tie_word_embeddings` (default true):
- T5 v1.0 (t5-base / t5-large, KAT's reader): ReLU feed-forward `wo(relu(wi(x)))`, LM head tied to the shared embedding,
  applied to the decoder output scaled by d_model ** -0.5.
- T5 v1.1 / flan-t5: gated-GELU feed-forward `wo(gelu_tanh(wi_0(x)) * wi_1(x))`, an untied `lm_head`, no rescale.
Both: RMS layer norm without bias or mean, unscaled dot-product attention, relative position biases computed in the first
layer of each stack and shared by all its layers (bidirectional buckets in the encoder, causal in the decoder).

transformers 3.0.2 also gave the first decoder block's cross-attention a relative position bias
(`decoder.block.0.layer.1.EncDecAttention.relative_attention_bias`); KAT trained and evaluated with it. What 3.0.2 computed
(T5Attention.forward with kv given, T5Block passing `query_length`): for decoder position t and fused encoder position j,
bias[h, t, j] = W[bucket(j - t, bidirectional=False), h] — i.e. bucket 0 for j >= t and bucket(t - j) for j < t — plus the
encoder mask, computed once in layer 0 and added in every decoder layer's cross-attention. With a KV cache 3.0.2 built the
full [T, klen] table and kept its last row, so cached and uncached decoding agree. Later transformers releases dropped it;
here it applies whenever the state dict carries the weight (config key `okvqa_cross_attention_bias`).

FiD (Izacard & Grave; KAT's FiDT5): each of a question's N passages is encoded on its own (B·N, L); the encodings are
laid out as (B, N·L, d) with the mask (B, N·L), and the decoder cross-attends over all of them. Visual tokens (REVIVE, as
okvqa's reader.fid feeds them): region features [B, R, F] go through `visual_projection` (Linear F -> d_model) and are
appended after the fused passage states, masked per region by `region_mask`.
"""
import inspect
import json
import math
import os
import pickle
import re
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

# transformers 3.0.2 T5Config defaults (what a config.json written by that version leaves out falls back to)
T5_DEFAULTS = {
    'vocab_size': 32128,
    'd_model': 512,
    'd_kv': 64,
    'd_ff': 2048,
    'num_layers': 6,
    'num_decoder_layers': None,  # -> num_layers
    'num_heads': 8,
    'relative_attention_num_buckets': 32,
    'relative_attention_max_distance': 128,
    'dropout_rate': 0.1,
    'layer_norm_epsilon': 1e-6,
    'feed_forward_proj': 'relu',
    'tie_word_embeddings': True,
    'pad_token_id': 0,
    'eos_token_id': 1,
    'decoder_start_token_id': 0,
    'okvqa_visual_features': None,
    'okvqa_cross_attention_bias': False,
}


class T5Config:
    """The T5 hyper-parameters this model reads; every other config.json key is kept as is for `to_dict`."""

    def __init__(self, **kw):
        self.extra = {k: v for k, v in kw.items() if k not in T5_DEFAULTS}
        for k, v in T5_DEFAULTS.items():
            setattr(self, k, kw.get(k, v))
        if self.num_decoder_layers is None:
            self.num_decoder_layers = self.num_layers
        proj = str(self.feed_forward_proj)
        self.is_gated = proj.startswith('gated-')
        if self.is_gated:  # transformers maps flan-t5's "gated-gelu" to the tanh approximation (dense_act_fn gelu_new)
            act = kw.get('dense_act_fn') or ('gelu_new' if proj == 'gated-gelu' else proj[len('gated-'):])
        else:
            act = proj
        if act not in ('relu', 'gelu', 'gelu_new', 'silu'):
            raise ValueError('feed_forward_proj {!r}: activation {!r} is not supported (relu, gelu, gelu_new, silu)'.format(proj, act))
        self.act = act

    @classmethod
    def from_dict(cls, d):
        return cls(**dict(d))

    def to_dict(self):
        out = dict(self.extra)
        for k in T5_DEFAULTS:
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        out['model_type'] = 't5'
        out.setdefault('architectures', ['T5ForConditionalGeneration'])
        out['is_encoder_decoder'] = True
        if self.is_gated:
            out['dense_act_fn'] = self.act
            out['is_gated_act'] = True
        return out

    @property
    def variant(self):
        return 'v1.1' if self.is_gated or not self.tie_word_embeddings else 'v1.0'


def relative_position_bucket(relative_position, bidirectional, num_buckets, max_distance):
    """T5's bucketing of (memory position - query position), as transformers 3.0.2 computes it (float32 log)."""
    ret = torch.zeros_like(relative_position)
    n = -relative_position
    if bidirectional:
        num_buckets //= 2
        ret = ret + (n < 0).long() * num_buckets
        n = n.abs()
    else:
        n = torch.clamp(n, min=0)
    max_exact = num_buckets // 2
    is_small = n < max_exact
    large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)).long()
    large = torch.clamp(large, max=num_buckets - 1)
    return ret + torch.where(is_small, n, large)


class LayerNorm(nn.Module):
    """T5's RMS norm: no mean subtraction, no bias."""

    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        var = x.float().pow(2).mean(-1, keepdim=True)
        return self.weight * (x / torch.sqrt(var + self.eps)).type_as(x)


class Attention(nn.Module):
    def __init__(self, cfg, bidirectional, has_bias):
        super().__init__()
        self.h, self.dk = cfg.num_heads, cfg.d_kv
        inner = self.h * self.dk
        self.q = nn.Linear(cfg.d_model, inner, bias=False)
        self.k = nn.Linear(cfg.d_model, inner, bias=False)
        self.v = nn.Linear(cfg.d_model, inner, bias=False)
        self.o = nn.Linear(inner, cfg.d_model, bias=False)
        self.bidirectional = bidirectional
        self.nb, self.max_distance = cfg.relative_attention_num_buckets, cfg.relative_attention_max_distance
        if has_bias:
            self.relative_attention_bias = nn.Embedding(self.nb, self.h)
        self.dropout = cfg.dropout_rate

    def compute_bias(self, q_pos, k_pos):
        """[1, H, Q, K] bias for query positions q_pos [Q] and key positions k_pos [K]."""
        rel = k_pos[None, :] - q_pos[:, None]
        b = relative_position_bucket(rel, self.bidirectional, self.nb, self.max_distance)
        return self.relative_attention_bias(b).permute(2, 0, 1)[None]

    def forward(self, x, kv, bias):
        B = x.size(0)
        split = lambda t: t.view(B, -1, self.h, self.dk).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q(x)), split(self.k(kv)), split(self.v(kv))
        scores = torch.matmul(q, k.transpose(2, 3)) + bias
        p = F.dropout(F.softmax(scores.float(), dim=-1).type_as(scores), p=self.dropout, training=self.training)
        o = torch.matmul(p, v).transpose(1, 2).reshape(B, -1, self.h * self.dk)
        return self.o(o), scores


class SelfAttentionLayer(nn.Module):
    def __init__(self, cfg, bidirectional, has_bias):
        super().__init__()
        self.SelfAttention = Attention(cfg, bidirectional, has_bias)
        self.layer_norm = LayerNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.dropout = nn.Dropout(cfg.dropout_rate)

    def forward(self, x, bias):
        h = self.layer_norm(x)
        o, _ = self.SelfAttention(h, h, bias)
        return x + self.dropout(o)


class CrossAttentionLayer(nn.Module):
    def __init__(self, cfg, has_bias):
        super().__init__()
        self.EncDecAttention = Attention(cfg, False, has_bias)
        self.layer_norm = LayerNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.dropout = nn.Dropout(cfg.dropout_rate)

    def forward(self, x, memory, bias):
        o, scores = self.EncDecAttention(self.layer_norm(x), memory, bias)
        return x + self.dropout(o), scores


def activation(name, x):
    if name == 'relu':
        return F.relu(x)
    if name == 'gelu':
        return F.gelu(x)
    if name == 'silu':
        return F.silu(x)
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))  # gelu_new


class DenseReluDense(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gated, self.act = cfg.is_gated, cfg.act
        if self.gated:
            self.wi_0 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
            self.wi_1 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        else:
            self.wi = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wo = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)
        self.dropout = nn.Dropout(cfg.dropout_rate)

    def forward(self, x):
        h = activation(self.act, self.wi_0(x)) * self.wi_1(x) if self.gated else activation(self.act, self.wi(x))
        return self.wo(self.dropout(h))


class FFLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.DenseReluDense = DenseReluDense(cfg)
        self.layer_norm = LayerNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.dropout = nn.Dropout(cfg.dropout_rate)

    def forward(self, x):
        return x + self.dropout(self.DenseReluDense(self.layer_norm(x)))


class Block(nn.Module):
    def __init__(self, cfg, is_decoder, first):
        super().__init__()
        layers = [SelfAttentionLayer(cfg, not is_decoder, first)]
        if is_decoder:
            layers.append(CrossAttentionLayer(cfg, first and cfg.okvqa_cross_attention_bias))
        layers.append(FFLayer(cfg))
        self.layer = nn.ModuleList(layers)


class Stack(nn.Module):
    def __init__(self, cfg, embed, is_decoder):
        super().__init__()
        self.embed_tokens = embed
        self.is_decoder = is_decoder
        n = cfg.num_decoder_layers if is_decoder else cfg.num_layers
        self.block = nn.ModuleList([Block(cfg, is_decoder, i == 0) for i in range(n)])
        self.final_layer_norm = LayerNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.dropout = nn.Dropout(cfg.dropout_rate)

    def encode(self, ids, mask):
        """Encoder: ids, mask [B, L] -> [B, L, d]."""
        x = self.dropout(self.embed_tokens(ids))
        pos = torch.arange(ids.size(1), device=ids.device)
        bias = self.block[0].layer[0].SelfAttention.compute_bias(pos, pos) + (1.0 - mask[:, None, None, :].to(x.dtype)) * -1e9
        for blk in self.block:
            x = blk.layer[1](blk.layer[0](x, bias))
        return self.dropout(self.final_layer_norm(x))

    def decode(self, ids, memory, memory_mask, keep_scores=False):
        """Decoder over the whole prefix (no cache): ids [B, T] -> hidden [B, T, d] (+ cross-attention scores per layer)."""
        x = self.dropout(self.embed_tokens(ids))
        T = ids.size(1)
        pos = torch.arange(T, device=ids.device)
        causal = torch.tril(torch.ones(T, T, device=ids.device))
        self_bias = self.block[0].layer[0].SelfAttention.compute_bias(pos, pos) + (1.0 - causal)[None, None] * -1e9
        cross_bias = (1.0 - memory_mask[:, None, None, :].to(x.dtype)) * -1e9
        cross0 = self.block[0].layer[1].EncDecAttention
        if hasattr(cross0, 'relative_attention_bias'):  # transformers 3.0.2: causal buckets of (j - t)
            cross_bias = cross_bias + cross0.compute_bias(pos, torch.arange(memory.size(1), device=ids.device))
        scores = []
        for blk in self.block:
            x = blk.layer[0](x, self_bias)
            x, s = blk.layer[1](x, memory, cross_bias)
            if keep_scores:
                scores.append(s)
            x = blk.layer[2](x)
        return self.dropout(self.final_layer_norm(x)), scores


class FiDT5(nn.Module):
    """T5 as a Fusion-in-Decoder reader. Parameter names are transformers' T5ForConditionalGeneration names (plus
    `visual_projection.*` when the reader takes REVIVE's regional visual tokens)."""

    def __init__(self, config: T5Config):
        super().__init__()
        self.config = config
        self.shared = nn.Embedding(config.vocab_size, config.d_model)
        self.encoder = Stack(config, self.shared, False)
        self.decoder = Stack(config, self.shared, True)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_word_embeddings:
            self.lm_head.weight = self.shared.weight
        self.visual_projection: Optional[nn.Linear] = None
        if config.okvqa_visual_features:
            self.visual_projection = nn.Linear(int(config.okvqa_visual_features), config.d_model)

    # --- FiD ---------------------------------------------------------------------------------------------------------
    def fuse(self, input_ids, attention_mask, region_features=None, region_mask=None):
        """Encode every passage alone, lay the encodings out per question: memory [B, N·L (+R), d], mask [B, N·L (+R)]."""
        B, N, L = input_ids.shape
        mask = attention_mask.reshape(B * N, L)
        enc = self.encoder.encode(input_ids.reshape(B * N, L), mask).reshape(B, N * L, -1)
        mask = attention_mask.reshape(B, N * L).to(enc.dtype)
        if region_features is not None and region_features.size(1) > 0:
            if self.visual_projection is None:
                raise ValueError('region_features given but the reader has no visual_projection (config okvqa_visual_features)')
            vis = self.visual_projection(region_features.to(enc.dtype))
            rmask = torch.ones(vis.shape[:2], dtype=enc.dtype, device=enc.device) if region_mask is None else region_mask.to(enc.dtype)
            enc = torch.cat([enc, vis], 1)
            mask = torch.cat([mask, rmask], 1)
        return enc, mask

    def logits(self, decoder_ids, memory, memory_mask, keep_scores=False):
        h, scores = self.decoder.decode(decoder_ids, memory, memory_mask, keep_scores)
        if self.config.tie_word_embeddings:
            h = h * (self.config.d_model ** -0.5)
        return self.lm_head(h), scores

    def forward(self, input_ids, attention_mask, labels, region_features=None, region_mask=None):
        """Mean token cross-entropy of `labels` [B, T] (-100 ignored), teacher-forced from the start token."""
        memory, mask = self.fuse(input_ids, attention_mask, region_features, region_mask)
        start = torch.full_like(labels[:, :1], self.config.decoder_start_token_id)
        dec = torch.cat([start, labels[:, :-1]], 1)
        dec = dec.masked_fill(dec == -100, self.config.pad_token_id)
        logits, _ = self.logits(dec, memory, mask)
        return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), labels.reshape(-1), ignore_index=-100)

    @torch.no_grad()
    def generate(self, input_ids, attention_mask, region_features=None, region_mask=None, max_length=10, return_scores=False):
        """Greedy decoding as transformers' generate(max_length): at most max_length - 1 new tokens (max_length counts
        the start token). Returns the generated tokens [B, T] without the start token, EOS included where produced,
        rows padded with pad_token_id after their EOS. With return_scores, also (log-probabilities [B, T] of the chosen
        tokens, per-layer pre-softmax cross-attention scores of the first step [B, H, F] each)."""
        cfg = self.config
        memory, mask = self.fuse(input_ids, attention_mask, region_features, region_mask)
        B = memory.size(0)
        seq = torch.full((B, 1), cfg.decoder_start_token_id, dtype=torch.long, device=memory.device)
        done = torch.zeros(B, dtype=torch.bool, device=memory.device)
        lps, first = [], None
        while seq.size(1) < max_length and not bool(done.all()):
            logits, scores = self.logits(seq, memory, mask, keep_scores=first is None)
            if first is None:
                first = [s[:, :, -1, :] for s in scores]
            lp = F.log_softmax(logits[:, -1].float(), dim=-1)
            nxt = lp.argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, cfg.pad_token_id), nxt)
            lps.append(torch.where(done, torch.zeros_like(nxt, dtype=lp.dtype), lp.gather(1, nxt[:, None])[:, 0]))
            seq = torch.cat([seq, nxt[:, None]], 1)
            done = done | (nxt == cfg.eos_token_id)
        out = seq[:, 1:]
        if return_scores:
            return out, (torch.stack(lps, 1) if lps else torch.zeros(B, 0)), first
        return out


# --- checkpoints -------------------------------------------------------------------------------------------------------
_WRAPPED_BLOCK = re.compile(r'^encoder\.block\.(\d+)\.module\.')
_TIED = ('encoder.embed_tokens.weight', 'decoder.embed_tokens.weight')
CROSS_BIAS_KEY = 'decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight'


def unwrap_key(key):
    """KAT's FiDT5 key (EncoderWrapper `encoder.encoder.*`, CheckpointWrapper `block.{i}.module.*`, a DataParallel
    `module.` prefix) -> the plain T5 key; other keys unchanged."""
    if key.startswith('module.'):
        key = key[len('module.'):]
    if key.startswith('encoder.encoder.'):
        key = 'encoder.' + key[len('encoder.encoder.'):]
    return _WRAPPED_BLOCK.sub(lambda m: 'encoder.block.{}.'.format(m.group(1)), key)


def _read_state(path):
    """A state dict from pytorch_model.bin / model.safetensors / any torch.save file (also {'state_dict': …}, {'model': …})."""
    if path.endswith('.safetensors'):
        from safetensors.torch import load_file  # only when the module is installed
        return load_file(path)
    # A checkpoint is a pickle, and a plain torch.load runs whatever callables it names: read it with torch's weights-only
    # unpickler (tensors and containers; torch >= 1.13), which every state dict saved by save_pretrained / torch.save passes.
    safe = {'weights_only': True} if 'weights_only' in inspect.signature(torch.load).parameters else {}
    try:
        state = torch.load(path, map_location='cpu', **safe)
    except pickle.UnpicklingError as e:
        raise ValueError('{}: not a plain state dict of tensors: it holds Python objects that torch\'s weights-only loader '
                         'refuses, and loading them could run code ({}). Re-save the weights with '
                         'torch.save(model.state_dict(), path) from a source you trust'.format(path, str(e).split('.')[0]))
    for k in ('state_dict', 'model'):
        if isinstance(state, dict) and isinstance(state.get(k), dict):
            state = state[k]
    if not isinstance(state, dict):
        raise ValueError('{}: not a state dict (got {})'.format(path, type(state).__name__))
    return state


def _checkpoint_files(path, config_path):
    """(weights file, config.json or None) of a checkpoint folder or file."""
    if os.path.isdir(path):
        candidates = ['pytorch_model.bin']
        try:
            import safetensors  # noqa: F401
            candidates.insert(0, 'model.safetensors')
        except ImportError:
            pass
        weights = next((os.path.join(path, f) for f in candidates if os.path.exists(os.path.join(path, f))), None)
        if weights is None:
            have = 'model.safetensors is there but the Python module safetensors is not installed; ' if os.path.exists(
                os.path.join(path, 'model.safetensors')) else ''
            raise FileNotFoundError('{}: no {} ({}give a state-dict file with --config instead)'.format(
                path, ' or '.join(candidates), have))
        cfg = config_path or os.path.join(path, 'config.json')
    else:
        if not os.path.exists(path):
            raise FileNotFoundError('{}: no such checkpoint file or folder'.format(path))
        weights = path
        cfg = config_path or os.path.join(os.path.dirname(os.path.abspath(path)), 'config.json')
    if not os.path.exists(cfg):
        raise FileNotFoundError('{}: no config.json beside the weights: give one with --config'.format(cfg))
    return weights, cfg


def canonical_state(state):
    """Plain T5 keys (KAT's wrapped keys unwrapped), float32 tensors; returns (state, layout, renamed count)."""
    out, renamed = {}, 0
    for k, v in state.items():
        nk = unwrap_key(k)
        renamed += nk != k
        if nk in out:
            raise ValueError('two keys map to {!r} after unwrapping KAT\'s FiD keys'.format(nk))
        if torch.is_tensor(v):
            out[nk] = v.detach().to(torch.float32).contiguous()
    if not any(k.startswith('encoder.block.') for k in out):
        raise ValueError('no encoder blocks (encoder.block.* or encoder.encoder.block.*.module.*): not a T5/FiD state dict')
    layout = 'kat-fid' if renamed else 'plain'
    return out, layout, renamed


def load_reader(path, config_path=None, visual_features=None):
    """Load a T5 / FiD checkpoint into FiDT5 (eval mode). `path`: a save_pretrained folder (config.json +
    pytorch_model.bin, or model.safetensors when the safetensors module is importable), KAT's released folder (same, with
    FiDT5's wrapped encoder keys; an optimizer.pth.tar beside is ignored), or a bare state-dict file (config from
    `config_path`, else the config.json beside it). `visual_features`: add a fresh visual projection of that input width
    when the checkpoint has none. Returns (model, info)."""
    weights, cfg_file = _checkpoint_files(path, config_path)
    with open(cfg_file, encoding='utf-8') as f:
        raw = json.load(f)
    state, layout, renamed = canonical_state(_read_state(weights))
    d = dict(raw)
    gated = any('.DenseReluDense.wi_0.' in k for k in state)
    if 'feed_forward_proj' not in d:
        d['feed_forward_proj'] = 'gated-gelu' if gated else 'relu'
    elif str(d['feed_forward_proj']).startswith('gated-') != gated:
        raise ValueError('config.json says feed_forward_proj {!r} but the weights {} wi_0/wi_1'.format(
            d['feed_forward_proj'], 'have' if gated else 'lack'))
    if 'num_decoder_layers' not in d:
        blocks = {int(k.split('.')[2]) for k in state if k.startswith('decoder.block.')}
        d['num_decoder_layers'] = max(blocks) + 1 if blocks else d.get('num_layers', T5_DEFAULTS['num_layers'])
    d['okvqa_cross_attention_bias'] = CROSS_BIAS_KEY in state
    if 'visual_projection.weight' in state:
        d['okvqa_visual_features'] = int(state['visual_projection.weight'].shape[1])
    elif visual_features:
        d['okvqa_visual_features'] = int(visual_features)
    else:
        d.pop('okvqa_visual_features', None)
    d.pop('architectures', None)
    config = T5Config.from_dict(d)
    model = FiDT5(config)
    expected = model.state_dict()
    warnings = []
    if 'shared.weight' not in state:
        for k in _TIED:
            if k in state:
                state['shared.weight'] = state[k]
                break
    for k in _TIED:
        if k in state and 'shared.weight' in state and not torch.equal(state[k], state['shared.weight']):
            warnings.append('{} differs from shared.weight; shared.weight is used (T5 ties them)'.format(k))
        state.pop(k, None)
    if config.tie_word_embeddings and 'lm_head.weight' in state:
        if not torch.equal(state['lm_head.weight'], state['shared.weight']):
            warnings.append('lm_head.weight differs from shared.weight in a tied (v1.0) checkpoint; shared.weight is used')
        state.pop('lm_head.weight')
    wanted = {k for k in expected if k not in _TIED and not (config.tie_word_embeddings and k == 'lm_head.weight')}
    if visual_features and model.visual_projection is not None and 'visual_projection.weight' not in state:
        wanted -= {'visual_projection.weight', 'visual_projection.bias'}
        for k in ('visual_projection.weight', 'visual_projection.bias'):
            state[k] = expected[k]
    missing = sorted(wanted - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ValueError('{}: the state dict does not fit a T5 of this config ({} {}): missing {} unexpected {}'.format(
            weights, config.variant, layout, missing[:6] + (['…'] if len(missing) > 6 else []),
            unexpected[:6] + (['…'] if len(unexpected) > 6 else [])))
    for k, v in state.items():
        if tuple(v.shape) != tuple(expected[k].shape):
            raise ValueError('{}: {} has shape {}, the config gives {}'.format(weights, k, tuple(v.shape), tuple(expected[k].shape)))
    model.load_state_dict(state, strict=False)
    model.eval()
    info = {
        'source': os.path.abspath(path), 'weights': os.path.abspath(weights), 'config': os.path.abspath(cfg_file),
        'layout': layout, 'renamed_keys': renamed, 'variant': config.variant,
        'cross_attention_bias': config.okvqa_cross_attention_bias,
        'visual_projection': model.visual_projection is not None,
        'config_defaults': [k for k in T5_DEFAULTS if k not in raw and not k.startswith('okvqa_')],
        'ignored_files': sorted(f for f in (os.listdir(path) if os.path.isdir(path) else []) if f.endswith('.pth.tar')),
        'warnings': warnings,
    }
    return model, info


def save_reader(model, out_dir, safetensors=False):
    """config.json + pytorch_model.bin (or model.safetensors) with transformers' plain T5 key names (+ visual_projection.*),
    readable by load_reader and `okvqa reader import`."""
    os.makedirs(out_dir, exist_ok=True)
    cfg = model.config.to_dict()
    cfg['okvqa_cross_attention_bias'] = hasattr(model.decoder.block[0].layer[1].EncDecAttention, 'relative_attention_bias')
    if model.visual_projection is not None:
        cfg['okvqa_visual_features'] = int(model.visual_projection.weight.shape[1])
    with open(os.path.join(out_dir, 'config.json'), 'w', encoding='utf-8') as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write('\n')
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if safetensors:
        from safetensors.torch import save_file
        state = {k: v.clone() for k, v in state.items()}  # safetensors refuses shared storage
        save_file(state, os.path.join(out_dir, 'model.safetensors'))
    else:
        torch.save(state, os.path.join(out_dir, 'pytorch_model.bin'))
    return out_dir
