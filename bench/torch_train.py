"""PyTorch side of bench/train.bench.ts: the same MLP training steps, timed in the same run.

  python3 bench/torch_train.py <threads> <in,hidden,out> [...]          # standalone: JSON line of medians
  python3 bench/torch_train.py <threads> <in,hidden,out> [...] --serve  # driven by train.bench.ts

Each model: Linear, ReLU, Dropout(0.2), Linear; softmax cross-entropy; AdamW (lr 1e-3,
weight decay 0.01 on the weights, 0 on the biases); batch 64; one fixed batch (x from the
mulberry32 stream of test/helpers.ts randomF32(64·in, 101), labels (7i + 3) mod out), as in
train.bench.ts. torch.set_num_threads(<threads>).

--serve: the protocol of bench/torch_serve.py (models warmed up for 0.3 s of steps each).
"""
import json
import os
import sys
import time

import torch

from torch_serve import serve as serve_requests, warm

threads = int(sys.argv[1])
torch.set_num_threads(threads)
torch.manual_seed(0)
serve = "--serve" in sys.argv
specs = [a for a in sys.argv[2:] if a != "--serve"]
BATCH = 64


def random_f32(n, seed):
    """test/helpers.ts randomF32(n, seed): mulberry32, uniform in [-1, 1)."""
    out = []
    a = seed & 0xFFFFFFFF
    m = 0xFFFFFFFF
    for _ in range(n):
        a = (a + 0x6D2B79F5) & m
        t = a
        t = ((t ^ (t >> 15)) * (t | 1)) & m
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & m)) & m
        u = ((t ^ (t >> 14)) & m) / 4294967296
        out.append(u * 2 - 1)
    return out


def make(spec):
    n_in, n_hid, n_out = (int(v) for v in spec.split(","))
    fc1, fc2 = torch.nn.Linear(n_in, n_hid), torch.nn.Linear(n_hid, n_out)
    model = torch.nn.Sequential(fc1, torch.nn.ReLU(), torch.nn.Dropout(0.2), fc2)
    opt = torch.optim.AdamW([
        {"params": [fc1.weight, fc2.weight], "weight_decay": 0.01},
        {"params": [fc1.bias, fc2.bias], "weight_decay": 0.0},
    ], lr=1e-3)
    x = torch.tensor(random_f32(BATCH * n_in, 101), dtype=torch.float32).reshape(BATCH, n_in)
    y = torch.tensor([(i * 7 + 3) % n_out for i in range(BATCH)])
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


makes = [lambda spec=spec: make(spec) for spec in specs]
steps = warm(makes, 0.3)
if serve:
    serve_requests(makes, steps)

results = []
for spec, step in zip(specs, steps):
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 0.02:
        step()
        n += 1
    runs = []
    budget = time.perf_counter() + float(os.environ.get("TORCH_BENCH_SECONDS", "1.0"))
    while time.perf_counter() < budget or len(runs) < 5:
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        runs.append((time.perf_counter() - t0) / n * 1000)
    runs.sort()
    med = runs[len(runs) // 2]
    results.append({"model": spec.replace(",", "-"), "msPerStep": med, "stepsPerSec": 1000 / med, "runs": len(runs)})
print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__, "results": results}))
