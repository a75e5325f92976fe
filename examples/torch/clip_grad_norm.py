"""Reference values of torch.nn.utils.clip_grad_norm_ (PyTorch 1.13) for test/clip.test.ts.

  python3 examples/torch/clip_grad_norm.py > test/reference/clip-grad-norm.json

Each case: gradients (float32, as lists with 9 significant digits, which round back to the
exact float32), max_norm, norm_type, the returned total norm, torch's clip coefficient
(reciprocal(total + 1e-6) * max_norm, clamped at 1, float32) and the clipped gradients.
Gradient sizes straddle the SIMD width (1, 3, 4, 5, 7, 8, 17, 67, 300); some cases hold
±Infinity or NaN (then total, coefficient and gradients as torch leaves them).
"""
import json, math
import torch

torch.manual_seed(0)


def f(v):
    if math.isnan(v): return 'NaN'
    if math.isinf(v): return 'Infinity' if v > 0 else '-Infinity'
    return float(f'{v:.9g}')


def case(name, grads, max_norm, norm_type):
    ps = []
    for g in grads:
        p = torch.zeros(g.shape, requires_grad=True)
        p.grad = g.clone()
        ps.append(p)
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    return {'name': name, 'maxNorm': max_norm, 'normType': 'Infinity' if norm_type == math.inf else norm_type,
            'grads': [[f(v) for v in g.flatten().tolist()] for g in grads],
            'total': f(total.item()), 'coef': f(coef.item()),
            'clipped': [[f(v) for v in p.grad.flatten().tolist()] for p in ps]}


sizes = [1, 3, 4, 5, 7, 8, 17, 67, 300]
cases = []
for nt in [2.0, math.inf]:
    g = [torch.randn(n) * (0.1 + i) for i, n in enumerate(sizes)]
    cases.append(case(f'norm {nt}: nine sizes, clipped', g, 1.0, nt))
    cases.append(case(f'norm {nt}: nine sizes, 1e-3 as large (under max: coef 1)', [x * 1e-3 for x in g], 1.0, nt))
    cases.append(case(f'norm {nt}: one tensor, max_norm 0.25', [torch.randn(129) * 3], 0.25, nt))
    cases.append(case(f'norm {nt}: max_norm 0', [torch.randn(10)], 0.0, nt))
    cases.append(case(f'norm {nt}: wide range', [torch.randn(64) * 1e-20, torch.randn(33) * 1e15], 5.0, nt))
    cases.append(case(f'norm {nt}: all zero', [torch.zeros(13)], 1.0, nt))
    inf = torch.randn(9); inf[4] = math.inf
    cases.append(case(f'norm {nt}: an infinite gradient', [torch.randn(5), inf], 1.0, nt))
    nan = torch.randn(9); nan[7] = math.nan
    cases.append(case(f'norm {nt}: a NaN gradient', [nan, torch.randn(6)], 1.0, nt))
print(json.dumps({'source': 'examples/torch/clip_grad_norm.py, torch ' + torch.__version__ + ' (torch.nn.utils.clip_grad_norm_)',
                  'cases': cases}, indent=None))
