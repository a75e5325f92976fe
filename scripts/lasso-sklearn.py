"""Writes test/reference/lasso-sklearn.json: scikit-learn 1.2's Lasso / ElasticNet coefficients
at its DEFAULT settings (tol 1e-4, max_iter 1000, fit_intercept=False) on float32 data given in
the file, for test/linear.test.ts (linear.fit at its own defaults must match them within 1e-3
of the largest coefficient, with the same exact zeros).

    /usr/bin/python3 scripts/lasso-sklearn.py

Problems: diabetes (features centred and scaled to unit sum of squares, target centred, as
loadDiabetes({ standardize: true }), rounded to float32), a tall synthetic one (n 120 > d 30)
and a wide one (n 40 < d 150), both with correlated columns and a sparse truth (seeded numpy).
sklearn fits float64 copies of the float32 values. Each case also records `optimum`, the
same model at tol 1e-13 and max_iter 10⁶, and `fromOptimum`, how far sklearn's default answer
is from it (relative to the largest |coefficient|): on ill-conditioned cases (small alpha, wide
X) sklearn's default stops 1e-3 to 3e-2 away, there its answer is one iterate, not the solution.
"""
import json
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso


def model(alpha, l1, **kw):
    if l1 == 1:
        return Lasso(alpha=alpha, fit_intercept=False, **kw)
    return ElasticNet(alpha=alpha, l1_ratio=l1, fit_intercept=False, **kw)


def diabetes():
    X, y = load_diabetes(return_X_y=True, scaled=False)
    X = X - X.mean(axis=0)
    X = X / np.sqrt((X * X).sum(axis=0))
    y = y - y.mean()
    return X.astype(np.float32), y.astype(np.float32)


def synthetic(n, d, k, seed):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, 1))
    X = rng.standard_normal((n, d)) + 0.5 * base  # correlated columns
    w = np.zeros(d)
    support = rng.choice(d, k, replace=False)
    w[support] = rng.uniform(1, 3, k) * rng.choice([-1, 1], k)
    y = X @ w + 0.5 * rng.standard_normal(n)
    return X.astype(np.float32), y.astype(np.float32)


problems = {
    "diabetes": diabetes(),
    "tall": synthetic(120, 30, 6, 7),
    "wide": synthetic(40, 150, 5, 11),
}
out = {"source": f"scikit-learn {sklearn.__version__} Lasso / ElasticNet(fit_intercept=False), default tol 1e-4 and max_iter 1000, on float64 copies of the float32 X and y",
       "generator": "scripts/lasso-sklearn.py", "problems": {}, "cases": []}
for name, (X, y) in problems.items():
    n, d = X.shape
    out["problems"][name] = {"n": n, "d": d, "X": [float(v) for v in X.ravel()], "y": [float(v) for v in y]}
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    for l1 in [1.0, 0.9, 0.5, 0.2]:
        amax = np.max(np.abs(X64.T @ y64)) / (n * l1)
        alphas = [amax * f for f in [0.5, 0.1, 0.02, 0.003]]
        if name == "diabetes" and l1 == 0.9:
            alphas.append(0.5)  # issue 20's case
        for alpha in alphas:
            with warnings.catch_warnings():
                warnings.simplefilter("error", ConvergenceWarning)
                m = model(alpha, l1).fit(X64, y64)
            opt = model(alpha, l1, tol=1e-13, max_iter=1_000_000).fit(X64, y64).coef_
            c = m.coef_
            out["cases"].append({
                "problem": name, "alpha": float(alpha), "l1Ratio": l1, "coef": [float(v) for v in c],
                "optimum": [float(v) for v in opt],
                "nIter": int(m.n_iter_), "zeros": int(np.sum(c == 0)),
                "fromOptimum": float(np.max(np.abs(c - opt)) / np.max(np.abs(opt))),
            })
with open("test/reference/lasso-sklearn.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
for c in out["cases"]:
    print(c["problem"], f'{c["alpha"]:.4g}', c["l1Ratio"], c["nIter"], c["zeros"], f'{c["fromOptimum"]:.1e}')
