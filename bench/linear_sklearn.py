"""scikit-learn's side of `npm run bench -- linear` (bench/linear.bench.ts drives it).

    python3 bench/linear_sklearn.py --serve

Protocol: one request per line on stdin, one answer line on stdout ("ready" first).
  load <name> <n> <d> <file>   X (n*d float32, row-major) then y (n float32), little-endian;
                               kept as float32 (sklearn then runs its float32 solver)
  path <name> <tol> <nAlphas> <eps>
                               lasso_path (precompute='auto', as sklearn's default)
  fit <name> <alpha> <tol> <l1Ratio>
                               Lasso / ElasticNet(fit_intercept=False, max_iter=10000).fit
  ridge <name> <alpha>         Ridge(alpha=n*alpha, fit_intercept=False).fit (its 'auto' solver;
                               the same objective as regula's l1Ratio 0; gap reported as nan)
Each run answers "ok <seconds> <largest dual gap / n> <total epochs> <nonzeros> <coef...>"
(the coefficients of the last alpha, comma-separated), timed with perf_counter around the
call alone. One BLAS/OpenMP thread (set by the driver's environment).
"""
import sys
import time

import numpy as np
from sklearn.linear_model import ElasticNet, Lasso, Ridge, lasso_path

data = {}


def answer(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run(words):
    cmd = words[0]
    if cmd == "load":
        name, n, d, path = words[1], int(words[2]), int(words[3]), words[4]
        raw = np.fromfile(path, dtype="<f4")
        if raw.size != n * d + n:
            raise ValueError(f"{path}: expected {n * d + n} floats, got {raw.size}")
        X = raw[: n * d].reshape(n, d)  # C order, as regula gets it: both convert the layout inside the fit
        data[name] = (X, raw[n * d:].copy())
        return "loaded"
    X, y = data[words[1]]
    if cmd == "path":
        tol, n_alphas, eps = float(words[2]), int(words[3]), float(words[4])
        t0 = time.perf_counter()
        _, coefs, gaps, iters = lasso_path(X, y, eps=eps, n_alphas=n_alphas, tol=tol, max_iter=10000, return_n_iter=True)
        dt = time.perf_counter() - t0
        last = coefs[:, -1]
        return f"ok {dt!r} {float(np.max(gaps))!r} {int(np.sum(iters))} {int(np.count_nonzero(last))} " + ",".join(repr(float(v)) for v in last)
    if cmd == "fit":
        alpha, tol, l1 = float(words[2]), float(words[3]), float(words[4])
        model = (Lasso(alpha=alpha, fit_intercept=False, tol=tol, max_iter=10000) if l1 == 1
                 else ElasticNet(alpha=alpha, l1_ratio=l1, fit_intercept=False, tol=tol, max_iter=10000))
        t0 = time.perf_counter()
        model.fit(X, y)
        dt = time.perf_counter() - t0
        c = model.coef_
        return f"ok {dt!r} {float(model.dual_gap_)!r} {int(model.n_iter_)} {int(np.count_nonzero(c))} " + ",".join(repr(float(v)) for v in c)
    if cmd == "ridge":
        alpha = float(words[2])
        model = Ridge(alpha=alpha * X.shape[0], fit_intercept=False)
        t0 = time.perf_counter()
        model.fit(X, y)
        dt = time.perf_counter() - t0
        c = model.coef_
        return f"ok {dt!r} nan 0 {int(np.count_nonzero(c))} " + ",".join(repr(float(v)) for v in c)
    raise ValueError(f"unknown request {cmd}")


if __name__ == "__main__":
    answer("ready")
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            answer(run(words))
        except Exception as e:  # the driver reports it and fails the case
            answer(f"error {type(e).__name__}: {e}".replace("\n", " "))
