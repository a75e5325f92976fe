"""nanoGPT's learning-rate rule (karpathy/nanoGPT train.py get_lr, copied as it is there)
evaluated by Python for test/schedule.test.ts (WarmupCosineLR):

  python3 examples/torch/nanogpt_lr.py > test/reference/nanogpt-lr.json

Rates are written with repr (17 significant digits: the exact float64), and beside them
the cosine each used (libm's; JavaScript's Math.cos may differ from it in the last bit).
"""
import json, math

configs = [
    # the Shakespeare CPU recipe of nanoGPT's README, and its train_shakespeare_char / GPT-2 configs
    {'learning_rate': 1e-3, 'min_lr': 1e-4, 'warmup_iters': 100, 'lr_decay_iters': 2000, 'iters': list(range(0, 2101))},
    {'learning_rate': 1e-3, 'min_lr': 1e-4, 'warmup_iters': 100, 'lr_decay_iters': 5000, 'iters': list(range(0, 5200, 7))},
    {'learning_rate': 6e-4, 'min_lr': 6e-5, 'warmup_iters': 2000, 'lr_decay_iters': 600000, 'iters': list(range(0, 610000, 997))},
    {'learning_rate': 0.01, 'min_lr': 0.0, 'warmup_iters': 0, 'lr_decay_iters': 10, 'iters': list(range(0, 15))},
]


def make_get_lr(learning_rate, min_lr, warmup_iters, lr_decay_iters):
    """nanoGPT's get_lr with its four settings (examples/torch/shakespeare.py uses it too)."""
    def get_lr(it):
        # 1) linear warmup for warmup_iters steps
        if it < warmup_iters:
            return learning_rate * (it + 1) / (warmup_iters + 1)
        # 2) if it > lr_decay_iters, return min learning rate
        if it > lr_decay_iters:
            return min_lr
        # 3) in between, use cosine decay down to min learning rate
        decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
        assert 0 <= decay_ratio <= 1
        coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))  # coeff ranges 0..1
        return min_lr + coeff * (learning_rate - min_lr)
    return get_lr


if __name__ == '__main__':
    out = []
    for c in configs:
        learning_rate, min_lr, warmup_iters, lr_decay_iters = c['learning_rate'], c['min_lr'], c['warmup_iters'], c['lr_decay_iters']
        get_lr = make_get_lr(learning_rate, min_lr, warmup_iters, lr_decay_iters)

        def cos_of(it):  # the cosine get_lr uses (None outside the decay), so a test can tell libm's last bit from the formula
            if it < warmup_iters or it > lr_decay_iters: return None
            return math.cos(math.pi * ((it - warmup_iters) / (lr_decay_iters - warmup_iters)))

        out.append({'lr': learning_rate, 'minLr': min_lr, 'warmupIters': warmup_iters, 'decayIters': lr_decay_iters,
                    'iters': c['iters'], 'rates': [get_lr(i) for i in c['iters']], 'cos': [cos_of(i) for i in c['iters']]})
    print(json.dumps({'source': 'karpathy/nanoGPT train.py get_lr, evaluated by examples/torch/nanogpt_lr.py (Python float64)', 'configs': out}))
