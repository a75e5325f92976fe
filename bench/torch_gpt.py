"""PyTorch side of bench/transformer.bench.ts: one training step of nanoGPT's architecture.

  python3 bench/torch_gpt.py <threads>            # standalone: JSON line with the median tokens/s
  python3 bench/torch_gpt.py <threads> --serve    # driven by transformer.bench.ts

The anchor shape: vocab 65, block 64 (T 64), n_embd 64, 4 heads, 2 layers, batch 16,
dropout 0.1, bias, untied lm_head; AdamW lr 3e-4 with weight decay 0.1 on the Linear
weights (c_attn, c_proj, c_fc, mlp c_proj, lm_head) and 0 on everything else. A small
nanoGPT-architecture model written here (pre-LN blocks, fused c_attn, causal softmax
attention with attn/resid dropout, exact-erf GELU MLP; the manual attention path, as
torch 1.13 has no scaled_dot_product_attention). One fixed batch: token i of the B·T
stream is (17i + 5⌊i/4⌋ + 3) mod 65, target (3·token + 1) mod 65 (transformer.bench.ts
uses the same). torch.set_num_threads(<threads>).

--serve: the protocol of bench/torch_serve.py, with one model (index 0).
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_serve import serve as serve_requests, warm

threads = int(sys.argv[1])
torch.set_num_threads(threads)
serve = "--serve" in sys.argv
V, T, C, H, L, B, P = 65, 64, 64, 4, 2, 16, 0.1


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(C, 3 * C)
        self.c_proj = nn.Linear(C, C)
        self.attn_dropout = nn.Dropout(P)
        self.resid_dropout = nn.Dropout(P)
        self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(b, t, H, c // H).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(b, t, H, c // H).transpose(1, 2)
        v = v.view(b, t, H, c // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(C, 4 * C)
        self.c_proj = nn.Linear(4 * C, C)
        self.dropout = nn.Dropout(P)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(C)
        self.attn = Attention()
        self.ln_2 = nn.LayerNorm(C)
        self.mlp = MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(V, C), wpe=nn.Embedding(T, C), drop=nn.Dropout(P),
            h=nn.ModuleList([Block() for _ in range(L)]), ln_f=nn.LayerNorm(C)))
        self.lm_head = nn.Linear(C, V, bias=False)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * L) if name.endswith("c_proj.weight") else 0.02)
            elif name.endswith("bias"):
                torch.nn.init.zeros_(p)

    def forward(self, idx):
        pos = torch.arange(0, idx.size(1), dtype=torch.long)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


tokens = [(17 * i + 5 * (i // 4) + 3) % V for i in range(B * T)]
idx = torch.tensor(tokens).view(B, T)
targets = torch.tensor([(3 * t + 1) % V for t in tokens]).view(B * T)


def make():
    torch.manual_seed(1)
    model = GPT()
    linear_w = [p for m in model.modules() if isinstance(m, nn.Linear) for n, p in m.named_parameters() if n == "weight"]
    ids = {id(p) for p in linear_w}
    rest = [p for p in model.parameters() if id(p) not in ids]
    opt = torch.optim.AdamW([{"params": linear_w, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=3e-4)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(idx).view(-1, V), targets)
        loss.backward()
        opt.step()
        return loss

    return step


step, = warm([make], 0.5)
if serve:
    serve_requests([make], [step])

runs = []
budget = time.perf_counter() + float(os.environ.get("TORCH_BENCH_SECONDS", "3.0"))
while time.perf_counter() < budget or len(runs) < 5:
    t0 = time.perf_counter()
    step()
    runs.append(time.perf_counter() - t0)
runs.sort()
med = runs[len(runs) // 2]
print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__, "msPerStep": med * 1000, "tokensPerSec": B * T / med}))
