#!/usr/bin/env python3
"""The polynomial Q of the GELU kernels (assembly/activation.ts, src/backend/js/activation.ts).

For x >= 0, F(x) = erfc(x/sqrt 2)/2 = exp(-x^2/2) * t * Q(2t - 1) with t = C/(C + x), C = 5:
t maps [0, inf) onto (0, 1], and Q(y) = F(x) exp(x^2/2) / t is smooth there, tending to
1/(C sqrt(2 pi)) as x -> inf. This fits Q by least squares in relative error at 400
Chebyshev points of y in (-1, 1), with mpmath at 40 digits, and prints the coefficients
q_0..q_18 and the largest relative error of the float64 Estrin evaluation over 4000 points.

Run: python3 scripts/gelu-fit.py   (needs mpmath and numpy; prints what the kernels hold)
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
C, DEG, N = 5.0, 18, 400


def q_exact(y):
    t = (mp.mpf(y) + 1) / 2
    x = C / t - C
    return mp.erfc(x / mp.sqrt(2)) * mp.exp(x * x / 2) / 2 / t


def estrin(c, y):
    """The kernels' evaluation order (float64)."""
    y2 = y * y; y4 = y2 * y2; y8 = y4 * y4
    a = [c[2 * k] + c[2 * k + 1] * y for k in range(9)]
    b = [a[0] + a[1] * y2, a[2] + a[3] * y2, a[4] + a[5] * y2, a[6] + a[7] * y2, a[8] + c[18] * y2]
    c0 = b[0] + b[1] * y4; c1 = b[2] + b[3] * y4
    return (c0 + c1 * y8) + b[4] * (y8 * y8)


ys = np.cos(np.pi * (np.arange(N) + 0.5) / N)
A = mp.matrix(N, DEG + 1)
b = mp.matrix(N, 1)
for i, y in enumerate(ys):
    v = q_exact(y)
    for j in range(DEG + 1):
        A[i, j] = mp.mpf(y) ** j / v
    b[i] = 1
coef = mp.lu_solve(A.T * A, A.T * b)
coef = [float(coef[j]) for j in range(DEG + 1)]
worst = 0.0
for y in np.linspace(-1, 1, 4001)[1:]:
    ex = q_exact(y)
    worst = max(worst, float(abs((mp.mpf(estrin(coef, float(y))) - ex) / ex)))
for j, c in enumerate(coef):
    print(f'q{j} = {c!r}')
print(f'max relative error of Q (float64 Estrin): {worst:.3g}')
