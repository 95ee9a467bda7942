#!/usr/bin/python3
"""An independent numpy Fusion-in-Decoder for the tiny T5 (no ONNX Runtime, no KV cache), to check reader.fid.

    /usr/bin/python3 test/reader/fid_reference.py < request.json > answer.json

request: {"npz": weights file written by generate_t5.py, "config": config.json path, "maxLength": 10, "numBeams": 1,
          "questions": [{"passages": [[token ids], ...], "visual": [[features], ...] (optional)}, ...],
          "format": "hf" (optional: the npz holds transformers' T5 key names, Linear weights [out, in]),
          "fusedStride": L, "fusedPassages": N (optional: the batch layout's passage length and count, which place each
          token in the fused sequence; only the v1.0 cross-attention position bias reads them)}
answer:  [{"tokens": [...], "tokenLogprobs": [...], "attribution": [...], "attributionSoftmax": [...],
           "visualAttribution": [...] (pre-softmax, per visual token)}, ...]

Each question is computed alone in float64: every passage is encoded on its own at its own length (no padding), the
encodings are concatenated (then the projected visual tokens), and the decoder is re-run over the whole prefix at every
step (no cache). Relative position buckets are computed here from T5's definition, not taken from the ONNX graphs.
Attribution: FiD's get_crossattention_scores on the first decoded token: scores before the softmax (and, beside them,
the softmax weights) averaged over heads, layers and the passage's tokens.

Two T5 variants, from config.json (keys missing from a transformers 3.0.2 config fall back to that version's defaults):
- v1.1 / flan (feed_forward_proj "gated-gelu", tie_word_embeddings false): gated tanh-GELU, untied head, no rescale.
- v1.0 (t5-base, KAT; "relu", tied): ReLU feed-forward, head = shared embedding applied to the decoder output times
  d_model ** -0.5, and, when config okvqa_cross_attention_bias is true, transformers 3.0.2's cross-attention position
  bias: W_cross[bucket(j - t, causal)] for decoder position t and fused encoder position j, added in every layer.
"""
import functools
import json
import math
import sys

import numpy as np


def bucket_of(rel, bidirectional, num_buckets, max_distance):
    """T5's bucket of rel = memory position - query position (float64 arithmetic)."""
    nb, b = num_buckets, 0
    if bidirectional:
        nb //= 2
        if rel > 0:
            b += nb
        n = abs(rel)
    else:
        n = max(-rel, 0)
    exact = nb // 2
    if n < exact:
        return b + n
    return b + min(nb - 1, exact + int(math.log(n / exact) / math.log(max_distance / exact) * (nb - exact)))


@functools.lru_cache(maxsize=None)
def buckets(q_len, k_len, bidirectional, num_buckets, max_distance):
    out = np.zeros((q_len, k_len), dtype=np.int64)
    for i in range(q_len):
        for j in range(k_len):
            out[i, j] = bucket_of(j - i, bidirectional, num_buckets, max_distance)
    return out


def from_hf(W, cfg):
    """transformers' T5 key names -> this file's names (Linear weights transposed to [in, out])."""
    out = {"shared": W["shared.weight"]}
    for stack, n in (("encoder", cfg["num_layers"]), ("decoder", cfg.get("num_decoder_layers") or cfg["num_layers"])):
        out[stack + ".rel_bias"] = W[stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
        out[stack + ".final_ln"] = W[stack + ".final_layer_norm.weight"]
        for i in range(n):
            b = "{}.block.{}.layer.".format(stack, i)
            parts = [("self", b + "0.SelfAttention.", b + "0.layer_norm.weight")]
            if stack == "decoder":
                parts.append(("cross", b + "1.EncDecAttention.", b + "1.layer_norm.weight"))
            for name, a, ln in parts:
                out["{}.{}.{}.ln".format(stack, i, name)] = W[ln]
                for m in "qkvo":
                    out["{}.{}.{}.{}".format(stack, i, name, m)] = W[a + m + ".weight"].T
            f = b + ("2" if stack == "decoder" else "1")
            out["{}.{}.ff.ln".format(stack, i)] = W[f + ".layer_norm.weight"]
            for src, dst in (("wi", "wi"), ("wi_0", "wi0"), ("wi_1", "wi1"), ("wo", "wo")):
                if f + ".DenseReluDense." + src + ".weight" in W:
                    out["{}.{}.ff.{}".format(stack, i, dst)] = W[f + ".DenseReluDense." + src + ".weight"].T
    cross = "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"
    if cross in W:
        out["decoder.cross_rel_bias"] = W[cross]
    if "lm_head.weight" in W:
        out["lm_head"] = W["lm_head.weight"].T
    if "visual_projection.weight" in W:
        out["visual.w"], out["visual.b"] = W["visual_projection.weight"].T, W["visual_projection.bias"]
    return out


class T5:
    def __init__(self, npz, cfg, fmt=None):
        self.W = {k: v.astype(np.float64) for k, v in np.load(npz).items()}
        if fmt == "hf":
            self.W = from_hf(self.W, cfg)
        self.c = cfg = dict(cfg)
        cfg.setdefault("num_decoder_layers", cfg["num_layers"])
        cfg.setdefault("relative_attention_max_distance", 128)
        cfg.setdefault("feed_forward_proj", "relu")
        cfg.setdefault("tie_word_embeddings", True)
        self.gated = cfg["feed_forward_proj"].startswith("gated-")
        self.tied = cfg["tie_word_embeddings"]
        self.cross_bias = bool(cfg.get("okvqa_cross_attention_bias")) and "decoder.cross_rel_bias" in self.W
        self.H, self.dk = cfg["num_heads"], cfg["d_kv"]
        self.positions = None  # fused positions of the current question's memory rows

    def rms(self, x, key):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.c["layer_norm_epsilon"]) * self.W[key]

    def split(self, x):  # [L, H*dk] -> [H, L, dk]
        return x.reshape(x.shape[0], self.H, self.dk).transpose(1, 0, 2)

    def attention(self, xq, xkv, key, bias):
        W = self.W
        q, k, v = self.split(xq @ W[key + ".q"]), self.split(xkv @ W[key + ".k"]), self.split(xkv @ W[key + ".v"])
        scores = q @ k.transpose(0, 2, 1) + bias
        p = np.exp(scores - scores.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        o = (p @ v).transpose(1, 0, 2).reshape(xq.shape[0], -1)
        return o @ W[key + ".o"], scores, p

    def ff(self, x, p):
        W = self.W
        h = self.rms(x, p + ".ff.ln")
        if not self.gated:  # T5 v1.0
            return x + np.maximum(h @ W[p + ".ff.wi"], 0.0) @ W[p + ".ff.wo"]
        a = h @ W[p + ".ff.wi0"]
        g = 0.5 * a * (1.0 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))
        return x + (g * (h @ W[p + ".ff.wi1"])) @ W[p + ".ff.wo"]

    def rel_bias(self, stack, q_len, k_len, bidirectional):
        b = buckets(q_len, k_len, bidirectional, self.c["relative_attention_num_buckets"], self.c["relative_attention_max_distance"])
        return self.W[stack + ".rel_bias"][b].transpose(2, 0, 1)  # [H, q, k]

    def encode(self, ids):
        x = self.W["shared"][np.array(ids)]
        bias = self.rel_bias("encoder", len(ids), len(ids), True)
        for i in range(self.c["num_layers"]):
            o, _, _ = self.attention(self.rms(x, f"encoder.{i}.self.ln"), self.rms(x, f"encoder.{i}.self.ln"), f"encoder.{i}.self", bias)
            x = self.ff(x + o, f"encoder.{i}")
        return self.rms(x, "encoder.final_ln")

    def cross_position_bias(self, T, positions):
        """[H, T, K]: W_cross[bucket(j - t)] for decoder positions t < T and the memory's fused positions j."""
        nb, md = self.c["relative_attention_num_buckets"], self.c["relative_attention_max_distance"]
        out = np.zeros((self.H, T, len(positions)))
        for t in range(T):
            for col, j in enumerate(positions):
                out[:, t, col] = self.W["decoder.cross_rel_bias"][bucket_of(j - t, False, nb, md)]
        return out

    def decode(self, prefix, memory, positions=None):
        """Log-probabilities of the next token after `prefix` (start token included), and the cross-attention of the last position."""
        x = self.W["shared"][np.array(prefix)]
        T = len(prefix)
        bias = self.rel_bias("decoder", T, T, False) + np.triu(np.full((T, T), -1e9), 1)[None]
        cross_bias = self.cross_position_bias(T, positions or self.positions) if self.cross_bias else 0.0
        cross_scores, cross_probs = [], []
        for i in range(self.c["num_decoder_layers"]):
            h = self.rms(x, f"decoder.{i}.self.ln")
            o, _, _ = self.attention(h, h, f"decoder.{i}.self", bias)
            x = x + o
            o, s, p = self.attention(self.rms(x, f"decoder.{i}.cross.ln"), memory, f"decoder.{i}.cross", cross_bias)
            cross_scores.append(s[:, -1, :])
            cross_probs.append(p[:, -1, :])
            x = self.ff(x + o, f"decoder.{i}")
        h = self.rms(x, "decoder.final_ln")[-1]
        logits = (h * self.c["d_model"] ** -0.5) @ self.W["shared"].T if self.tied else h @ self.W["lm_head"]
        m = logits.max()
        return logits - m - math.log(np.exp(logits - m).sum()), cross_scores, cross_probs


def greedy(model, memory, start, eos, max_length):
    tokens, lps, first = [], [], None
    prefix = [start]
    while len(prefix) < max_length:
        lp, s, p = model.decode(prefix, memory)
        if first is None:
            first = (s, p)
        t = int(np.argmax(lp))
        tokens.append(t)
        lps.append(float(lp[t]))
        prefix.append(t)
        if t == eos:
            break
    return tokens, lps, first


def beam(model, memory, start, eos, max_length, K):
    """transformers 3.0.2 beam search (length penalty 1, early_stopping False), for one question, without a cache."""
    beams = [([start], [], 0.0)] + [([start], [], -1e9)] * (K - 1)
    hyps = []  # (score, tokens, lps)

    def add(tokens, lps, total, length):
        hyps.append((total / length, tokens, lps))
        hyps.sort(key=lambda h: -h[0])
        del hyps[K:]

    first = None
    cur = 1
    done = False
    while cur < max_length and not done:
        cands = []
        for bi, (prefix, lps, score) in enumerate(beams):
            lp, s, p = model.decode(prefix, memory)
            if first is None:
                first = (s, p)
            for t in range(len(lp)):
                cands.append((score + float(lp[t]), bi, t, float(lp[t])))
        cands.sort(key=lambda c: (-c[0], c[1], c[2]))
        cands = cands[: 2 * K]
        nxt = []
        for rank, (total, bi, t, lp) in enumerate(cands):
            prefix, lps, _ = beams[bi]
            if t == eos:
                if rank >= K:
                    continue
                add(prefix[1:] + [eos], lps + [lp], total, cur)
            else:
                nxt.append((prefix + [t], lps + [lp], total))
            if len(nxt) == K:
                break
        if len(hyps) >= K and hyps[-1][0] >= cands[0][0] / cur:
            done = True
        beams = nxt
        cur += 1
    if not done:
        for prefix, lps, total in beams:
            if len(hyps) < K or total / cur > hyps[-1][0]:
                add(prefix[1:], lps, total, cur)
    return hyps[0][1], hyps[0][2], first


def main():
    req = json.load(sys.stdin)
    with open(req["config"], encoding="utf-8") as f:
        cfg = json.load(f)
    model = T5(req["npz"], cfg, req.get("format"))
    start, eos = cfg.get("decoder_start_token_id", 0), cfg.get("eos_token_id", 1)
    out = []
    for q in req["questions"]:
        encs = [model.encode(ids) for ids in q["passages"]]
        lengths = [len(ids) for ids in q["passages"]]
        memory = np.concatenate(encs, 0)
        visual = q.get("visual") or []
        if visual:
            memory = np.concatenate([memory, np.array(visual, np.float64) @ model.W["visual.w"] + model.W["visual.b"]], 0)
        stride = req.get("fusedStride") or max(lengths)
        model.positions = [p * stride + i for p, n in enumerate(lengths) for i in range(n)]
        model.positions += [(req.get("fusedPassages") or len(lengths)) * stride + r for r in range(len(visual))]
        K = req.get("numBeams", 1)
        if K == 1:
            tokens, lps, (scores, probs) = greedy(model, memory, start, eos, req["maxLength"])
        else:
            tokens, lps, (scores, probs) = beam(model, memory, start, eos, req["maxLength"], K)
        L = len(scores)

        def per_passage(mats):
            res, off = [], 0
            for n in lengths:
                res.append(float(sum(m[:, off:off + n].sum() for m in mats) / (n * L * model.H)))
                off += n
            return res

        vis_off = sum(lengths)
        out.append({
            "tokens": tokens,
            "tokenLogprobs": lps,
            "attribution": per_passage(scores),
            "attributionSoftmax": per_passage(probs),
            "visualAttribution": [float(sum(m[:, vis_off + r].sum() for m in scores) / (L * model.H)) for r in range(len(visual))],
        })
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
