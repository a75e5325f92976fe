"""Experiment 8 of `npm start` (examples/experiments/gpt-names.ts) in PyTorch, as a cross-check.

The same split of the names (loadNames(): the sorted set of lower-cased lines of
female.txt and male.txt; train = sorted index i % 10 <= 2, validation = i % 10 == 9; streams
joined by "\n" plus a final "\n"; vocabulary "\n" then the sorted characters), the same
nanoGPT model (2 layers, 4 heads, nEmbd 64, blockSize 32, bias, tied embeddings, nanoGPT's
initialisation), AdamW lr 1e-3, betas (0.9, 0.99), decay on every parameter of dimension >= 2,
batches of 32 random windows of 33 tokens, validation every 100 steps over consecutive
windows in eval mode, and the four models: none, dropout 0.1, AdamW weight decay 1.0, both.
PyTorch draws its own initial weights and batches, so the figures agree with regula's in
kind, not to the digit.

  python3 examples/torch/gpt_names.py [STEPS] [MODEL,MODEL...] [--data DIR]

DIR holds names/female.txt and names/male.txt (default: ../shared/data beside the repo).
One thread (torch.set_num_threads(1)); prints best and final validation loss, the step of
the best, the final training loss (eval mode, whole training stream), the gap, and the
curve.
"""
import math, os, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
args=[a for a in sys.argv[1:]]
data=os.path.join(os.path.dirname(os.path.abspath(__file__)),'..','..','..','shared','data')
if '--data' in args:
    i=args.index('--data'); data=args[i+1]; del args[i:i+2]
names=set()
for f in ['female.txt','male.txt']:
    for l in open(os.path.join(data,'names',f)).read().split('\n'):
        l=l.replace('\r','').lower()
        if l: names.add(l)
names=sorted(names)
small=[n for i,n in enumerate(names) if i%10<=2]
val=[n for i,n in enumerate(names) if i%10==9]
vocab=['\n']+sorted(set(''.join(names)))
stoi={c:i for i,c in enumerate(vocab)}
enc=lambda s: torch.tensor([stoi[c] for c in s], dtype=torch.long)
tr=enc('\n'.join(small)+'\n'); va=enc('\n'.join(val)+'\n')
T,C,H,L=32,64,4,2
class Attn(nn.Module):
    def __init__(s,p):
        super().__init__(); s.c_attn=nn.Linear(C,3*C); s.c_proj=nn.Linear(C,C); s.ad=nn.Dropout(p); s.rd=nn.Dropout(p)
    def forward(s,x):
        B,t,_=x.shape; q,k,v=s.c_attn(x).split(C,2)
        q=q.view(B,t,H,C//H).transpose(1,2); k=k.view(B,t,H,C//H).transpose(1,2); v=v.view(B,t,H,C//H).transpose(1,2)
        a=(q@k.transpose(-2,-1))/math.sqrt(C//H); a=a.masked_fill(torch.tril(torch.ones(t,t))==0,float('-inf')); a=s.ad(F.softmax(a,-1))
        return s.rd(s.c_proj((a@v).transpose(1,2).contiguous().view(B,t,C)))
class Block(nn.Module):
    def __init__(s,p):
        super().__init__(); s.ln_1=nn.LayerNorm(C); s.attn=Attn(p); s.ln_2=nn.LayerNorm(C); s.c_fc=nn.Linear(C,4*C); s.c_proj=nn.Linear(4*C,C); s.d=nn.Dropout(p)
    def forward(s,x):
        x=x+s.attn(s.ln_1(x)); return x+s.d(s.c_proj(F.gelu(s.c_fc(s.ln_2(x)))))
class GPT(nn.Module):
    def __init__(s,p):
        super().__init__(); s.wte=nn.Embedding(len(vocab),C); s.wpe=nn.Embedding(T,C); s.drop=nn.Dropout(p); s.h=nn.ModuleList([Block(p) for _ in range(L)]); s.ln_f=nn.LayerNorm(C)
        s.apply(s._init)
        for n,q in s.named_parameters():
            if n.endswith('c_proj.weight'): nn.init.normal_(q,0,0.02/math.sqrt(2*L))
    def _init(s,m):
        if isinstance(m,nn.Linear): nn.init.normal_(m.weight,0,0.02); nn.init.zeros_(m.bias)
        elif isinstance(m,nn.Embedding): nn.init.normal_(m.weight,0,0.02)
    def forward(s,idx):
        t=idx.shape[1]; x=s.drop(s.wte(idx)+s.wpe(torch.arange(t)))
        for b in s.h: x=b(x)
        return s.ln_f(x)@s.wte.weight.t()
def evl(m,st):
    m.eval(); n=len(st)//(T+1); w=st[:n*(T+1)].view(n,T+1)
    with torch.no_grad(): l=F.cross_entropy(m(w[:,:-1]).reshape(-1,len(vocab)),w[:,1:].reshape(-1)).item()
    m.train(); return l
steps=int(args[0]) if len(args)>0 else 3000
models=[('none',0,0),('dropout 0.1',0.1,0),('AdamW 1.0',0,1.0),('both',0.1,1.0)]
only=args[1].split(',') if len(args)>1 else None
for name,p,wd in models:
    if only and name not in only: continue
    torch.manual_seed(1); m=GPT(p)
    dec=[q for q in m.parameters() if q.dim()>=2]; nd=[q for q in m.parameters() if q.dim()<2]
    opt=torch.optim.AdamW([{'params':dec,'weight_decay':wd},{'params':nd,'weight_decay':0}],lr=1e-3,betas=(0.9,0.99))
    g=torch.Generator().manual_seed(2); curve=[(0,evl(m,va))]; t0=time.time()
    for s in range(1,steps+1):
        o=torch.randint(0,len(tr)-T,(32,),generator=g); x=torch.stack([tr[i:i+T] for i in o]); y=torch.stack([tr[i+1:i+T+1] for i in o])
        loss=F.cross_entropy(m(x).reshape(-1,len(vocab)),y.reshape(-1)); opt.zero_grad(); loss.backward(); opt.step()
        if s%100==0: curve.append((s,evl(m,va)))
    best=min(curve[1:],key=lambda c:c[1]); trl=evl(m,tr)
    print(f"{name:12s} best {best[1]:.3f}@{best[0]} final {curve[-1][1]:.3f} train {trl:.3f} gap {curve[-1][1]-trl:.3f}  {time.time()-t0:.0f}s", flush=True)
    print('   ', ' '.join(f"{s}:{v:.3f}" for s,v in curve), flush=True)
