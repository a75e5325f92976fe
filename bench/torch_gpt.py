"""PyTorch side of bench/transformer.bench.ts: one training step of nanoGPT's model, two recipes.

  python3 bench/torch_gpt.py <threads>            # standalone: a JSON line per recipe with the median ms/step
  python3 bench/torch_gpt.py <threads> --serve    # driven by transformer.bench.ts (model 0: names, 1: nanogpt)

Written from nanoGPT's model.py and train.py (karpathy/nanoGPT): pre-LN blocks, fused c_attn,
causal softmax attention with attn/resid dropout (the manual path: torch 1.13 has no
scaled_dot_product_attention), exact-erf GELU MLP, nanoGPT's LayerNorm with optional bias,
weight tying (transformer.wte.weight = lm_head.weight) and init (normal 0.02, c_proj.weight
0.02/sqrt(2·n_layer), biases 0). The two recipes (bench/gpt-recipes.ts has the same):

- names: vocab 65, T 64, n_embd 64, 4 heads, 2 layers, batch 16, dropout 0.1, bias, untied
  lm_head; AdamW lr 3e-4, weight decay 0.1 on the Linear weights, 0 on the rest; no clip.
- nanogpt: nanoGPT's CPU recipe (config/train_shakespeare_char.py with --device=cpu
  --compile=False --block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128
  --dropout=0.0): vocab 65, no bias, tied; train.py's step: forward, cross_entropy,
  backward, clip_grad_norm_(model.parameters(), 1.0), AdamW (configure_optimizers: decay
  0.1 on every parameter with dim >= 2, 0 on the rest; lr 1e-3, betas (0.9, 0.99); not
  fused on CPU), zero_grad(set_to_none=True). On a CPU train.py's GradScaler disables
  itself and its autocast context is a nullcontext: plain float32.

One fixed batch: token i of the B·T stream is (17i + 5⌊i/4⌋ + 3) mod 65, target
(3·token + 1) mod 65. torch.set_num_threads(<threads>).

--serve: the protocol of bench/torch_serve.py.
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

RECIPES = {
    "names": dict(V=65, T=64, C=64, H=4, L=2, B=16, P=0.1, bias=True, tied=False, lr=3e-4, betas=(0.9, 0.999), decay_embeddings=False, clip=0.0),
    "nanogpt": dict(V=65, T=64, C=128, H=4, L=4, B=12, P=0.0, bias=False, tied=True, lr=1e-3, betas=(0.9, 0.99), decay_embeddings=True, clip=1.0),
}


class LayerNorm(nn.Module):
    """nanoGPT's LayerNorm with an optional bias."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class Attention(nn.Module):
    def __init__(self, r):
        super().__init__()
        C, T = r["C"], r["T"]
        self.r = r
        self.c_attn = nn.Linear(C, 3 * C, bias=r["bias"])
        self.c_proj = nn.Linear(C, C, bias=r["bias"])
        self.attn_dropout = nn.Dropout(r["P"])
        self.resid_dropout = nn.Dropout(r["P"])
        self.register_buffer("bias", torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(self, x):
        b, t, c = x.size()
        H = self.r["H"]
        q, k, v = self.c_attn(x).split(c, dim=2)
        q = q.view(b, t, H, c // H).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(b, t, H, c // H).transpose(1, 2)
        v = v.view(b, t, H, c // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, r):
        super().__init__()
        C = r["C"]
        self.c_fc = nn.Linear(C, 4 * C, bias=r["bias"])
        self.c_proj = nn.Linear(4 * C, C, bias=r["bias"])
        self.dropout = nn.Dropout(r["P"])

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, r):
        super().__init__()
        self.ln_1 = LayerNorm(r["C"], r["bias"])
        self.attn = Attention(r)
        self.ln_2 = LayerNorm(r["C"], r["bias"])
        self.mlp = MLP(r)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, r):
        super().__init__()
        V, T, C, L = r["V"], r["T"], r["C"], r["L"]
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(V, C), wpe=nn.Embedding(T, C), drop=nn.Dropout(r["P"]),
            h=nn.ModuleList([Block(r) for _ in range(L)]), ln_f=LayerNorm(C, r["bias"])))
        self.lm_head = nn.Linear(C, V, bias=False)
        if r["tied"]:
            self.transformer.wte.weight = self.lm_head.weight
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


def batch(r):
    V, T, B = r["V"], r["T"], r["B"]
    tokens = [(17 * i + 5 * (i // 4) + 3) % V for i in range(B * T)]
    return torch.tensor(tokens).view(B, T), torch.tensor([(3 * t + 1) % V for t in tokens]).view(B * T)


def maker(name):
    r = RECIPES[name]

    def make():
        torch.manual_seed(1)
        model = GPT(r)
        idx, targets = batch(r)
        if r["decay_embeddings"]:
            # train.py's configure_optimizers: every parameter with dim >= 2 decays.
            decay = [p for p in model.parameters() if p.dim() >= 2]
        else:
            decay = [p for m in model.modules() if isinstance(m, nn.Linear) for n, p in m.named_parameters() if n == "weight"]
        ids = {id(p) for p in decay}
        rest = [p for p in model.parameters() if id(p) not in ids]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}], lr=r["lr"], betas=r["betas"])
        params = list(model.parameters())
        model.train()

        def step():
            loss = F.cross_entropy(model(idx).view(-1, r["V"]), targets, ignore_index=-1)
            loss.backward()
            if r["clip"] != 0.0:
                torch.nn.utils.clip_grad_norm_(params, r["clip"])
            opt.step()
            opt.zero_grad(set_to_none=True)
            return loss

        return step

    return make


names = ["names", "nanogpt"]
makes = [maker(n) for n in names]
steps = warm(makes, 0.5)
if serve:
    serve_requests(makes, steps)

for name, step in zip(names, steps):
    r = RECIPES[name]
    runs = []
    budget = time.perf_counter() + float(os.environ.get("TORCH_BENCH_SECONDS", "3.0"))
    while time.perf_counter() < budget or len(runs) < 5:
        t0 = time.perf_counter()
        step()
        runs.append(time.perf_counter() - t0)
    runs.sort()
    med = runs[len(runs) // 2]
    print(json.dumps({"recipe": name, "threads": torch.get_num_threads(), "torch": torch.__version__, "msPerStep": med * 1000, "tokensPerSec": r["B"] * r["T"] / med}))
