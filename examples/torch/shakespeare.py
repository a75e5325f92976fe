"""nanoGPT's CPU recipe on Tiny Shakespeare in PyTorch: the reference of `npm start -- shakespeare`.

nanoGPT (karpathy/nanoGPT) model.py's GPT and train.py's loop, with the recipe of its README
for a laptop CPU (config/train_shakespeare_char.py with --device=cpu --compile=False
--block_size=64 --batch_size=12 --n_layer=4 --n_head=4 --n_embd=128 --max_iters=2000
--lr_decay_iters=2000 --dropout=0.0):

  data    prepare.py: vocabulary = sorted distinct characters (65), the first 90% of the
          characters train, the last 10% validate; get_batch: 12 windows of 65 characters at
          offsets torch.randint(len(train) - 64)
  model   4 layers, 4 heads, 128 wide, block 64, no biases, dropout 0, tied embeddings,
          nanoGPT's initialisation (N(0, 0.02), c_proj.weight N(0, 0.02/sqrt(2·n_layer)))
  optim   AdamW betas (0.9, 0.99), eps 1e-8, weight decay 0.1 on every parameter of
          dimension >= 2 (the matrices and the embedding), 0 on the LayerNorm weights
  lr      get_lr(it): 1e-3·(it+1)/101 for it < 100, cosine to 1e-4 at it = 2000
  step    forward, backward, clip_grad_norm_(parameters, 1.0), step, zero_grad

The one change, the same in regula's run ("the same data rule"): the validation loss is
exact rather than nanoGPT's estimate from random batches: the mean cross-entropy over the
whole validation split cut into consecutive windows of 65 characters (the last partial
window dropped), in eval mode, without gradients, at iterations 0, 250, ..., 2000 (before
the step of that iteration, as train.py evaluates).

  python3 examples/torch/shakespeare.py [--seeds 1337,1338,1339] [--iters 2000]
      [--data examples/data/tinyshakespeare/input.txt] [--out test/reference/shakespeare-torch.json]

The stored reference ran the seeds in parallel, one process each (--seeds 1337 --out a.json,
...), then joined them: python3 examples/torch/shakespeare.py --merge a.json b.json c.json.

One thread (torch.set_num_threads(1)). Writes the curve of each seed, the mean over seeds,
seconds and tokens per second, and a sample of 200 characters per seed.
"""
import argparse, json, math, os, platform, time
import sys
import torch, torch.nn as nn, torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nanogpt_lr import make_get_lr  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument('--seeds', default='1337,1338,1339')
ap.add_argument('--iters', type=int, default=2000)
ap.add_argument('--eval-interval', type=int, default=250)
ap.add_argument('--data', default=os.path.join(here, '..', 'data', 'tinyshakespeare', 'input.txt'))
ap.add_argument('--out', default=os.path.join(here, '..', '..', 'test', 'reference', 'shakespeare-torch.json'))
ap.add_argument('--merge', nargs='+', help='join the runs of these output files (one seed each, run in parallel) into --out')
args = ap.parse_args()
torch.set_num_threads(1)

# ---- the recipe ----
block_size, batch_size, n_layer, n_head, n_embd = 64, 12, 4, 4, 128
learning_rate, min_lr, warmup_iters, lr_decay_iters = 1e-3, 1e-4, 100, 2000
weight_decay, beta1, beta2, grad_clip = 0.1, 0.9, 0.99, 1.0

# ---- data (prepare.py) ----
text = open(args.data, encoding='utf-8').read()
chars = sorted(set(text))          # by code point
stoi = {c: i for i, c in enumerate(chars)}
vocab_size = len(chars)
n = len(text)
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
train_data, val_data = data[:int(n * 0.9)], data[int(n * 0.9):]


# ---- model.py (bias=False, dropout 0) ----
class LayerNorm(nn.Module):
    def __init__(self, ndim):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, None, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=False)
        self.register_buffer('bias', torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(n_embd, dim=2)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
        v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=False)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=False)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.attn, self.ln_2, self.mlp = LayerNorm(n_embd), CausalSelfAttention(), LayerNorm(n_embd), MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd), wpe=nn.Embedding(block_size, n_embd),
            h=nn.ModuleList([Block() for _ in range(n_layer)]), ln_f=LayerNorm(n_embd)))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith('c_proj.weight'):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx):
        t = idx.size(1)
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(t, dtype=torch.long))
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


get_lr = make_get_lr(learning_rate, min_lr, warmup_iters, lr_decay_iters)  # train.py's get_lr


@torch.no_grad()
def exact_loss(model, stream, windows_per_batch=128):
    """Mean cross-entropy over consecutive windows of block_size + 1 tokens (eval mode)."""
    model.eval()
    w = len(stream) // (block_size + 1)
    win = stream[:w * (block_size + 1)].view(w, block_size + 1)
    total = 0.0
    for i in range(0, w, windows_per_batch):
        b = win[i:i + windows_per_batch]
        logits = model(b[:, :-1])
        total += F.cross_entropy(logits.reshape(-1, vocab_size), b[:, 1:].reshape(-1), reduction='sum').item()
    model.train()
    return total / (w * block_size)


def run(seed):
    torch.manual_seed(seed)
    model = GPT()
    params = [p for p in model.parameters()]
    decay = [p for p in params if p.dim() >= 2]
    nodecay = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': weight_decay}, {'params': nodecay, 'weight_decay': 0.0}],
                            lr=learning_rate, betas=(beta1, beta2))
    curve, train_seconds = [], 0.0
    for it in range(args.iters + 1):
        lr = get_lr(it)
        for g in opt.param_groups:
            g['lr'] = lr
        if it % args.eval_interval == 0 or it == args.iters:
            curve.append({'iter': it, 'valLoss': exact_loss(model, val_data)})
            print(f"seed {seed} iter {it}: val {curve[-1]['valLoss']:.4f}", flush=True)
        if it == args.iters:
            break  # train.py takes one more step after its last evaluation; nothing sees it
        t0 = time.time()
        ix = torch.randint(len(train_data) - block_size, (batch_size,))
        x = torch.stack([train_data[i:i + block_size] for i in ix])
        y = torch.stack([train_data[i + 1:i + 1 + block_size] for i in ix])
        loss = F.cross_entropy(model(x).view(-1, vocab_size), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        opt.zero_grad(set_to_none=True)
        train_seconds += time.time() - t0
    model.eval()
    g = torch.Generator().manual_seed(seed)
    idx = torch.tensor([[stoi['\n']]])
    with torch.no_grad():
        for _ in range(200):
            probs = F.softmax(model(idx[:, -block_size:])[:, -1, :] / 0.8, dim=-1)
            idx = torch.cat((idx, torch.multinomial(probs, 1, generator=g)), dim=1)
    sample = ''.join(chars[i] for i in idx[0].tolist())
    return {'seed': seed, 'curve': curve, 'finalValLoss': curve[-1]['valLoss'], 'trainSeconds': train_seconds,
            'tokensPerSecond': args.iters * batch_size * block_size / train_seconds, 'sample': sample}


runs = ([r for f in args.merge for r in json.load(open(f))['runs']] if args.merge
        else [run(int(s)) for s in args.seeds.split(',')])
iters = [c['iter'] for c in runs[0]['curve']]
mean = [{'iter': i, 'valLoss': sum(r['curve'][k]['valLoss'] for r in runs) / len(runs)} for k, i in enumerate(iters)]
out = {
    'source': 'examples/torch/shakespeare.py: nanoGPT model.py + train.py semantics, PyTorch ' + torch.__version__ +
              ', one thread, ' + platform.machine(),
    'semantics': 'validation loss: mean cross-entropy (nats per character) over the whole validation split '
                 '(last 10% of characters) in consecutive windows of 65, eval mode, at the iteration before its step',
    'recipe': {'blockSize': block_size, 'batchSize': batch_size, 'nLayer': n_layer, 'nHead': n_head, 'nEmbd': n_embd,
               'bias': False, 'dropout': 0, 'lr': learning_rate, 'minLr': min_lr, 'warmupIters': warmup_iters,
               'decayIters': lr_decay_iters, 'betas': [beta1, beta2], 'weightDecay': weight_decay, 'gradClip': grad_clip,
               'iters': args.iters, 'vocabSize': vocab_size, 'trainChars': len(train_data), 'valChars': len(val_data)},
    'runs': runs,
    'mean': mean,
    'meanFinalValLoss': mean[-1]['valLoss'],
}
os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
with open(args.out, 'w') as f:
    json.dump(out, f, indent=1)
print(f"mean final validation loss over {len(runs)} seeds: {out['meanFinalValLoss']:.4f} -> {args.out}")
