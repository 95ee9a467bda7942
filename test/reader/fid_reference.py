#!/usr/bin/python3
"""An independent numpy Fusion-in-Decoder for the tiny T5 (no ONNX Runtime, no KV cache), to check reader.fid.

    /usr/bin/python3 test/reader/fid_reference.py < request.json > answer.json

request: {"npz": weights file written by generate_t5.py, "config": config.json path, "maxLength": 10, "numBeams": 1,
          "questions": [{"passages": [[token ids], ...], "visual": [[features], ...] (optional)}, ...]}
answer:  [{"tokens": [...], "tokenLogprobs": [...], "attribution": [...], "attributionSoftmax": [...],
           "visualAttribution": [...] (pre-softmax, per visual token)}, ...]

Each question is computed alone in float64: every passage is encoded on its own at its own length (no padding), the
encodings are concatenated (then the projected visual tokens), and the decoder is re-run over the whole prefix at every
step (no cache). Relative position buckets are computed here from T5's definition, not taken from the ONNX graphs.
Attribution: FiD's get_crossattention_scores on the first decoded token: scores before the softmax (and, beside them,
the softmax weights) averaged over heads, layers and the passage's tokens.
"""
import functools
import json
import math
import sys

import numpy as np


@functools.lru_cache(maxsize=None)
def buckets(q_len, k_len, bidirectional, num_buckets, max_distance):
    out = np.zeros((q_len, k_len), dtype=np.int64)
    for i in range(q_len):
        for j in range(k_len):
            rel = j - i  # memory position - query position
            nb = num_buckets
            b = 0
            if bidirectional:
                nb //= 2
                if rel > 0:
                    b += nb
                n = abs(rel)
            else:
                n = max(-rel, 0)
            exact = nb // 2
            if n < exact:
                b += n
            else:
                b += min(nb - 1, exact + int(math.log(n / exact) / math.log(max_distance / exact) * (nb - exact)))
            out[i, j] = b
    return out


class T5:
    def __init__(self, npz, cfg):
        self.W = {k: v.astype(np.float64) for k, v in np.load(npz).items()}
        self.c = cfg
        self.H, self.dk = cfg["num_heads"], cfg["d_kv"]

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

    def decode(self, prefix, memory):
        """Log-probabilities of the next token after `prefix` (start token included), and the cross-attention of the last position."""
        x = self.W["shared"][np.array(prefix)]
        T = len(prefix)
        bias = self.rel_bias("decoder", T, T, False) + np.triu(np.full((T, T), -1e9), 1)[None]
        cross_scores, cross_probs = [], []
        for i in range(self.c["num_decoder_layers"]):
            h = self.rms(x, f"decoder.{i}.self.ln")
            o, _, _ = self.attention(h, h, f"decoder.{i}.self", bias)
            x = x + o
            o, s, p = self.attention(self.rms(x, f"decoder.{i}.cross.ln"), memory, f"decoder.{i}.cross", 0.0)
            cross_scores.append(s[:, -1, :])
            cross_probs.append(p[:, -1, :])
            x = self.ff(x + o, f"decoder.{i}")
        logits = self.rms(x, "decoder.final_ln")[-1] @ self.W["lm_head"]
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
    model = T5(req["npz"], cfg)
    out = []
    for q in req["questions"]:
        encs = [model.encode(ids) for ids in q["passages"]]
        lengths = [len(ids) for ids in q["passages"]]
        memory = np.concatenate(encs, 0)
        visual = q.get("visual") or []
        if visual:
            memory = np.concatenate([memory, np.array(visual, np.float64) @ model.W["visual.w"] + model.W["visual.b"]], 0)
        K = req.get("numBeams", 1)
        if K == 1:
            tokens, lps, (scores, probs) = greedy(model, memory, cfg["decoder_start_token_id"], cfg["eos_token_id"], req["maxLength"])
        else:
            tokens, lps, (scores, probs) = beam(model, memory, cfg["decoder_start_token_id"], cfg["eos_token_id"], req["maxLength"], K)
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
