"""faiss side of `eval/bench/knn.js --compare faiss` (run by Debian's /usr/bin/python3 with python3-faiss).

Reads the vectors and queries knn.js wrote (raw float32, row-major), builds IndexFlatIP, IndexIVFFlat and
IndexIVFScalarQuantizer (QT_8bit) with the given nlist/nprobe (inner product), and prints one JSON line:
ms/query batched for the flat index, ms/query one query at a time for both IVF indexes, and recall@k against the
flat (exact) results.

  python3 knn_faiss.py <data.f32> <queries.f32> <dim> <k> <nlist> <nprobe> [train_sample]

knn.js passes train_sample = 32 · nlist, the sample size our k-means trains on.
"""
import json
import sys
import time

import faiss
import numpy as np

data_path, query_path = sys.argv[1], sys.argv[2]
dim, k, nlist, nprobe = (int(x) for x in sys.argv[3:7])
train_n = int(sys.argv[7]) if len(sys.argv) > 7 else 0
xb = np.fromfile(data_path, dtype=np.float32).reshape(-1, dim)
xq = np.fromfile(query_path, dtype=np.float32).reshape(-1, dim)
nq = xq.shape[0]
log = lambda m: print(f"[faiss] {m}", file=sys.stderr, flush=True)
log(f"n={xb.shape[0]} dim={dim} queries={nq} nlist={nlist} nprobe={nprobe} threads={faiss.omp_get_max_threads()}")

flat = faiss.IndexFlatIP(dim)
flat.add(xb)
t = time.perf_counter()
_, truth = flat.search(xq, k)
flat_batched = (time.perf_counter() - t) * 1000 / nq


def one_at_a_time(index):
    rows = []
    t = time.perf_counter()
    for i in range(nq):
        _, ids = index.search(xq[i : i + 1], k)
        rows.append(ids[0])
    return (time.perf_counter() - t) * 1000 / nq, np.array(rows)


def recall(ids):
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(ids, truth)]))


rng = np.random.default_rng(1)
train = xb if not train_n or train_n >= xb.shape[0] else xb[rng.choice(xb.shape[0], train_n, replace=False)]
out = {"flat_ms_per_query_batched": flat_batched}
for name, make in (
    ("ivf_flat", lambda q: faiss.IndexIVFFlat(q, dim, nlist, faiss.METRIC_INNER_PRODUCT)),
    ("ivf_sq8", lambda q: faiss.IndexIVFScalarQuantizer(q, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)),
):
    quantizer = faiss.IndexFlatIP(dim)
    index = make(quantizer)
    t = time.perf_counter()
    index.train(train)
    index.add(xb)
    build = time.perf_counter() - t
    index.nprobe = nprobe
    ms, ids = one_at_a_time(index)
    out[f"{name}_ms_per_query"] = ms
    out[f"{name}_recall_at_{k}"] = recall(ids)
    out[f"{name}_build_s"] = build
    log(f"{name}: build {build:.1f} s, {ms:.3f} ms/query one at a time, recall@{k} {out[f'{name}_recall_at_{k}']:.4f}")
log(f"flat: {flat_batched:.3f} ms/query batched ({nq} queries in one call)")
print(json.dumps(out))
