"""Continue a regula model's training in PyTorch with DistributedDataParallel, and hand it back.

A regula model saved with `safetensors.save(model, { metadata: { 'regula.model': architectureOf(model) } })`
(examples/torch/architecture.ts), or a GPT saved by saveGPT / saveCheckpoint (its configuration in
'regula.gpt'; a checkpoint's optimizer tensors "optimizer.*" are skipped), is rebuilt here with the same architecture and parameter names
(an nn.Sequential MLP, or nanoGPT's GPT), checked against regula's logits, trained further on
several processes, and written back as safetensors for regula to load.

  python3 regula_torch.py check MODEL DATA
      MODEL's logits on DATA's "check.x" (MLP) or "check.ids" (GPT), in eval mode, against
      regula's "check.logits" in DATA; exits 1 if any differs by more than --tol (1e-5).
  python3 regula_torch.py sample MODEL [--prompt TEXT] [--chars N] [--temperature T] [--seed S]
      Text from a GPT file with a vocabulary: the demo page's checkpoint download (panel 5,
      saveCheckpoint), saveGPT's file, or a 'regula.model' file with "tokenizer.vocab". Prints
      JSON: the prompt, the text, and the smallest gap between the two largest logits over the
      steps (with --temperature 0, greedy, how far each choice was from a tie).
  torchrun --standalone --nproc_per_node 2 regula_torch.py train MODEL DATA OUT [--steps N] [--lr LR]
      DDP training (gloo, CPU) on DATA's "x"/"y" rows (MLP) or "tokens" stream (GPT), each rank
      on its own shard; rank 0 writes OUT (the weights, F32, regula's names and shapes) and
      OUT's logits on the check input to --logits.

Only PyTorch is needed: the safetensors reader and writer below follow the format itself
(8-byte little-endian header length, JSON header, raw little-endian data).
"""
import argparse
import json
import math
import struct
import sys
from array import array

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

# ---- safetensors ------------------------------------------------------------------------------

DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'F16': torch.float16, 'BF16': torch.bfloat16}
assert sys.byteorder == 'little', 'the tensor bytes are read and written as this machine stores them'


def read_safetensors(path):
    """name -> float32 tensor, and the header's __metadata__ (strings)."""
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    body = memoryview(raw)[8 + n:]
    tensors = {}
    for name, e in header.items():
        begin, end = e['data_offsets']
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[e['dtype']]) if end > begin else torch.zeros(0)
        tensors[name] = flat.to(torch.float32).reshape(e['shape'])
    return tensors, meta


def write_safetensors(path, tensors, meta):
    """F32 tensors in the given order; the header padded with spaces to a multiple of 8 bytes."""
    header, blobs, at = ({'__metadata__': meta} if meta else {}), [], 0
    for name, t in tensors.items():
        blob = array('f', t.detach().to(torch.float32).flatten().tolist()).tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


# ---- the architectures (regula's names: torch.nn.Sequential's and nanoGPT's) ----------------

class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (torch 1.13's nn.LayerNorm always has one); eps 1e-5."""

    def __init__(self, n, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c['nEmbd'], 3 * c['nEmbd'], bias=c['bias'])
        self.c_proj = nn.Linear(c['nEmbd'], c['nEmbd'], bias=c['bias'])
        self.attn_dropout = nn.Dropout(c['dropout'])
        self.resid_dropout = nn.Dropout(c['dropout'])
        self.n_head = c['nHead']
        # a plain attribute, not a buffer: not a weight (kept out of the file), and DDP's gloo
        # broadcast of buffers cannot send bool tensors
        self.mask = torch.tril(torch.ones(c['blockSize'], c['blockSize'], dtype=torch.bool))

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(~self.mask[:T, :T], float('-inf'))
        att = self.attn_dropout(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c['nEmbd'], 4 * c['nEmbd'], bias=c['bias'])
        self.c_proj = nn.Linear(4 * c['nEmbd'], c['nEmbd'], bias=c['bias'])
        self.dropout = nn.Dropout(c['dropout'])

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1, self.attn = LayerNorm(c['nEmbd'], c['bias']), CausalSelfAttention(c)
        self.ln_2, self.mlp = LayerNorm(c['nEmbd'], c['bias']), MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(c['vocabSize'], c['nEmbd']), wpe=nn.Embedding(c['blockSize'], c['nEmbd']),
            drop=nn.Dropout(c['dropout']), h=nn.ModuleList([Block(c) for _ in range(c['nLayer'])]),
            ln_f=LayerNorm(c['nEmbd'], c['bias'])))
        self.lm_head = nn.Linear(c['nEmbd'], c['vocabSize'], bias=False)
        if c.get('tieWeights', True):
            self.transformer.wte.weight = self.lm_head.weight

    def forward(self, ids):
        """ids (B, T) -> logits (B*T, vocab), as regula's gpt.forward."""
        B, T = ids.shape
        t = self.transformer
        x = t.drop(t.wte(ids) + t.wpe(torch.arange(T)))
        for block in t.h:
            x = block(x)
        return self.lm_head(t.ln_f(x)).view(B * T, -1)


def build(meta):
    if 'regula.gpt' in meta:  # saveGPT / saveCheckpoint: the GPT's config (regula's GPTConfig)
        return GPT(json.loads(meta['regula.gpt']))
    if 'regula.model' not in meta:
        sys.exit('the file has neither "regula.gpt" (saveGPT, saveCheckpoint) nor "regula.model" metadata (write it with architectureOf(model), examples/torch/architecture.ts)')
    spec = json.loads(meta['regula.model'])
    if spec['type'] == 'GPT':
        return GPT(spec['config'])
    make = {'Linear': lambda s: nn.Linear(s['in'], s['out'], bias=s['bias']), 'ReLU': lambda s: nn.ReLU(),
            'GELU': lambda s: nn.GELU(), 'Tanh': lambda s: nn.Tanh(), 'Dropout': lambda s: nn.Dropout(s['p'])}
    return nn.Sequential(*[make[s['type']](s) for s in spec['layers']])


def load_model(path):
    tensors, meta = read_safetensors(path)
    model = build(meta)
    # strict: every name and shape must match (a checkpoint's optimizer moments are not the model's)
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith('optimizer.')})
    return model, meta


def check_logits(model, data):
    model.eval()
    with torch.no_grad():
        return model(data['check.ids'].long()) if 'check.ids' in data else model(data['check.x'])


# ---- commands ---------------------------------------------------------------------------------

def check(args):
    model, _ = load_model(args.model)
    data, _ = read_safetensors(args.data)
    diff = (check_logits(model, data) - data['check.logits'].view(-1, data['check.logits'].shape[-1])).abs().max().item()
    print(json.dumps({'max_abs_diff': diff, 'tol': args.tol}))
    sys.exit(0 if diff <= args.tol else 1)


def sample(args):
    """nanoGPT's sample.py on a regula GPT file: the vocabulary from its metadata, softmax(logits / T), multinomial."""
    model, meta = load_model(args.model)
    if 'tokenizer.vocab' not in meta:
        sys.exit('the file has no "tokenizer.vocab" metadata: save it with a tokenizer (saveGPT(gpt, { tokenizer }), saveCheckpoint({ tokenizer, ... }))')
    vocab = json.loads(meta['tokenizer.vocab'])
    stoi = {c: i for i, c in enumerate(vocab)}
    unknown = sorted(set(c for c in args.prompt if c not in stoi))
    if unknown or args.prompt == '':
        sys.exit(f'the prompt must be a non-empty text of the vocabulary\'s characters; not in it: {unknown}')
    block = model.transformer.wpe.weight.shape[0]
    torch.manual_seed(args.seed)
    idx = torch.tensor([[stoi[c] for c in args.prompt]])
    margin = math.inf
    model.eval()
    with torch.no_grad():
        for _ in range(args.chars):
            ctx = idx[:, -block:]
            logits = model(ctx).view(1, ctx.shape[1], -1)[:, -1, :].double()
            top2 = logits.topk(2, dim=-1).values[0]
            margin = min(margin, (top2[0] - top2[1]).item())
            nxt = logits.argmax(dim=-1, keepdim=True) if args.temperature == 0 else torch.multinomial(torch.softmax(logits / args.temperature, dim=-1), 1)
            idx = torch.cat((idx, nxt), dim=1)
    text = ''.join(vocab[i] for i in idx[0, len(args.prompt):].tolist())
    print(json.dumps({'prompt': args.prompt, 'text': text, 'steps': meta.get('regula.step'), 'min_top2_margin': margin}))


def train(args):
    dist.init_process_group('gloo')  # CPU; torchrun provides rank, world size and the rendezvous
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.set_num_threads(1)
    model, meta = load_model(args.model)
    data, _ = read_safetensors(args.data)
    ddp = DDP(model)  # averages gradients over the ranks in backward()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(1000 + rank)
    if 'tokens' in data:  # GPT: windows of the token stream, each rank its own half
        tokens = data['tokens'].long()
        half = tokens.numel() // world
        shard = tokens[rank * half:(rank + 1) * half]
        T = json.loads(meta['regula.model'])['config']['blockSize']
    else:  # MLP: every world-th row
        xs, ys = data['x'][rank::world], data['y'].long()[rank::world]
    model.train()
    for step in range(args.steps):
        if 'tokens' in data:
            starts = torch.randint(0, shard.numel() - T - 1, (args.batch,), generator=gen)
            xb = torch.stack([shard[s:s + T] for s in starts])
            yb = torch.stack([shard[s + 1:s + T + 1] for s in starts]).view(-1)
        else:
            idx = torch.randint(0, xs.shape[0], (args.batch,), generator=gen)
            xb, yb = xs[idx], ys[idx]
        loss = F.cross_entropy(ddp(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if rank == 0 and (step % 10 == 0 or step == args.steps - 1):
            print(f'step {step} loss {loss.item():.4f} (rank 0 of {world})', flush=True)
    if rank == 0:
        meta = {**meta, 'torch.steps': str(args.steps), 'torch.world_size': str(world)}
        write_safetensors(args.out, model.state_dict(), meta)
        if args.logits:
            write_safetensors(args.logits, {'logits': check_logits(model, data)}, {})
    dist.barrier()
    dist.destroy_process_group()


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('check')
    c.add_argument('model')
    c.add_argument('data')
    c.add_argument('--tol', type=float, default=1e-5)
    t = sub.add_parser('train')
    t.add_argument('model')
    t.add_argument('data')
    t.add_argument('out')
    t.add_argument('--logits')
    t.add_argument('--steps', type=int, default=50)
    t.add_argument('--batch', type=int, default=32)
    t.add_argument('--lr', type=float, default=1e-3)
    s = sub.add_parser('sample')
    s.add_argument('model')
    s.add_argument('--prompt', default='\n')
    s.add_argument('--chars', type=int, default=200)
    s.add_argument('--temperature', type=float, default=0.8)
    s.add_argument('--seed', type=int, default=1337)
    args = p.parse_args()
    {'check': check, 'sample': sample, 'train': train}[args.cmd](args)
