"""Independent reference values for the report tests (not run by CI).

mpmath at 50 digits, by methods unlike the TypeScript engine's: a plain dense Newton iteration
with exact matrix inversion for the logistic MLE, mpmath's ncdf for p-values, Holm applied by
hand. Run: python3 test/reports/reference.py (mpmath 1.3). The numbers printed here are pasted
into test/reports/report-numbers.test.ts.
"""
from mpmath import mp, mpf, ncdf, sqrt, log, exp, matrix, inverse

mp.dps = 50
Z = mpf('1.959963984540054')


def logit_fit(X, y, n, iters=60):
    p = len(X[0])
    beta = matrix(p, 1)
    for _ in range(iters):
        H = matrix(p, p)
        g = matrix(p, 1)
        for xi, yi, ni in zip(X, y, n):
            eta = sum(xi[j] * beta[j] for j in range(p))
            mu = 1 / (1 + exp(-eta))
            for a in range(p):
                g[a] += xi[a] * (yi - ni * mu)
                for b in range(p):
                    H[a, b] += xi[a] * xi[b] * ni * mu * (1 - mu)
        beta = beta + inverse(H) * g
    cov = inverse(H)
    return [beta[j] for j in range(p)], [sqrt(cov[j, j]) for j in range(p)]


def dummies(levels, counts):
    row = [1]
    for l, L in zip(levels, counts):
        row += [1 if l == k else 0 for k in range(1, L)]
    return row


def holm(ps):
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    m = len(ps)
    out = [None] * m
    running = mpf(0)
    for rank, i in enumerate(order):
        running = max(running, min(mpf(1), (m - rank) * ps[i]))
        out[i] = running
    return out


def report(name, rows, counts):
    X = [dummies(r[0], counts) for r in rows]
    beta, se = logit_fit(X, [mpf(r[1]) for r in rows], [mpf(r[2]) for r in rows])
    print(f'# {name}: [odds ratio, ci low, ci high, p, p holm] per non-reference level')
    j = 1
    for d, L in enumerate(counts):
        ps, lines = [], []
        for l in range(1, L):
            b, s = beta[j], se[j]
            p = 2 * ncdf(-abs(b / s))
            ps.append(p)
            lines.append([exp(b), exp(b - Z * s), exp(b + Z * s), p])
            j += 1
        for line, adj in zip(lines, holm(ps)):
            print('  [' + ', '.join(mp.nstr(v, 15) for v in line + [adj]) + '],')


report('2x2', [((0, 0), 30, 1000), ((1, 0), 45, 1100), ((0, 1), 52, 950), ((1, 1), 60, 1020)], (2, 2))

# The L9 orthogonal array, all four columns: 3^4 levels in nine variants (saturated model).
L9 = [(0, 0, 0, 0), (0, 1, 1, 1), (0, 2, 2, 2), (1, 0, 1, 2), (1, 1, 2, 0), (1, 2, 0, 1), (2, 0, 2, 1), (2, 1, 0, 2), (2, 2, 1, 0)]
clicks = [400, 430, 380, 520, 560, 540, 410, 395, 450]
report('L9 3^4', [(r, c, 20000) for r, c in zip(L9, clicks)], (3, 3, 3, 3))
