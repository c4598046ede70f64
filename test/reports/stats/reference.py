"""Independent reference values for the stats tests (not run by CI).

Everything here is computed with mpmath at 50 significant digits, by methods that differ from
the TypeScript engine: mpmath's own erfc/erfinv for the normal distribution, root finding on the
defining score equation for Wilson bounds, and a plain dense Newton iteration with exact matrix
inversion for the logistic MLEs. Run: python3 test/reports/stats/reference.py (mpmath 1.3).
"""
from mpmath import mp, mpf, ncdf, erfinv, sqrt, findroot, log, exp, matrix, inverse

mp.dps = 50
Z = mpf('1.959963984540054')


def show(label, value):
    print(f'{label}: {mp.nstr(value, 17)}')


print('# normal cdf')
for x in ['-37.5', '-10', '-5', '-1.959963984540054', '-1', '0.5', '1', '3', '8']:
    show(f'Phi({x})', ncdf(mpf(x)))
print('# normal quantile')
for p in ['0.975', '0.025', '1e-10', '0.6', '0.999']:
    P = mpf(p)
    show(f'Phiinv({p})', sqrt(2) * erfinv(2 * P - 1))
# erfinv(2p - 1) rounds to erfinv(-1) at this precision; solve Phi(x) = p on log scale instead.
show('Phiinv(1e-300)', findroot(lambda x: log(ncdf(x)) - log(mpf('1e-300')), -37))


print('# wilson: roots of (x/n - t)^2 = z^2 t (1 - t) / n by bisection either side of x/n')
def bisect(f, a, b, steps=300):
    fa = f(a)
    for _ in range(steps):
        m = (a + b) / 2
        if (f(m) > 0) == (fa > 0):
            a, fa = m, f(m)
        else:
            b = m
    return (a + b) / 2


def wilson(x, n):
    f = lambda t: (mpf(x) / n - t) ** 2 - Z ** 2 * t * (1 - t) / n
    ph = mpf(x) / n
    # t = 0 (t = 1) is itself a root when x = 0 (x = n), so those bounds are set, not searched.
    lo = mpf(0) if x == 0 else bisect(f, mpf(0), ph)
    hi = mpf(1) if x == n else bisect(f, ph, mpf(1))
    return lo, hi


for x, n in [(81, 263), (15, 148), (0, 20), (1, 29), (29, 29), (3, 1000000)]:
    lo, hi = wilson(x, n)
    print(f'wilson({x}/{n}): [{mp.nstr(lo, 17)}, {mp.nstr(hi, 17)}]')


def logit_fit(X, y, n, iters=60):
    """Dense Newton for the binomial logit MLE; returns beta, standard errors, deviance."""
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
    dev = mpf(0)
    for xi, yi, ni in zip(X, y, n):
        eta = sum(xi[j] * beta[j] for j in range(p))
        m = ni / (1 + exp(-eta))
        if yi > 0:
            dev += 2 * yi * log(yi / m)
        if ni - yi > 0:
            dev += 2 * (ni - yi) * log((ni - yi) / (ni - m))
    return [beta[j] for j in range(p)], [sqrt(cov[j, j]) for j in range(p)], dev


def dummies(levels, counts):
    row = [1]
    for l, L in zip(levels, counts):
        row += [1 if l == k else 0 for k in range(1, L)]
    return row


def report(name, rows, counts):
    X = [dummies(r[0], counts) for r in rows]
    y = [mpf(r[1]) for r in rows]
    n = [mpf(r[2]) for r in rows]
    beta, se, dev = logit_fit(X, y, n)
    print(f'# {name}')
    for j, (b, s) in enumerate(zip(beta, se)):
        print(f'  beta[{j}] = {mp.nstr(b, 17)}  se = {mp.nstr(s, 17)}')
    print(f'  deviance = {mp.nstr(dev, 17)}')


# 2x2 factorial, main effects only (rows: levels, clicks, impressions) — test (b).
report('2x2 main effects', [((0, 0), 30, 1000), ((1, 0), 45, 1100), ((0, 1), 52, 950), ((1, 1), 60, 1020)], (2, 2))

# L9 array, first three columns, clicks not from the model — test (c), non-saturated.
L9 = [(0, 0, 0, 0), (0, 1, 1, 1), (0, 2, 2, 2), (1, 0, 1, 2), (1, 1, 2, 0), (1, 2, 0, 1), (2, 0, 2, 1), (2, 1, 0, 2), (2, 2, 1, 0)]
clicks = [31, 44, 29, 58, 40, 37, 25, 61, 47]
report('L9 3 factors', [(r[:3], c, 2000) for r, c in zip(L9, clicks)], (3, 3, 3))

# Two-sided p of the 2x1 closed-form test (a): z = log(35*980/(865*20)) / sqrt(1/35+1/865+1/20+1/980).
z = log(mpf(35 * 980) / (865 * 20)) / sqrt(mpf(1) / 35 + mpf(1) / 865 + mpf(1) / 20 + mpf(1) / 980)
show('2x1 z', z)
show('2x1 p', 2 * ncdf(-abs(z)))
