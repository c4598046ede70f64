"""Reference for report-numbers.test.ts "2x2" with dispersion (numpy + scipy, not run by CI):
a dense Newton fit, Pearson X² over variants, t tests on the residual df, Holm over the report
and the Holm-consistent interval levels (see src/reports/stats/adjust.ts)."""
import numpy as np
from scipy import stats
def fit(X, y, n):
    b = np.zeros(X.shape[1]); b[0]=np.log(y.sum()/(n-y).sum())
    for _ in range(50):
        mu = 1/(1+np.exp(-X@b)); W = n*mu*(1-mu)
        H = X.T@(W[:,None]*X); g = X.T@(y-n*mu)
        b = b + np.linalg.solve(H,g)
    mu = 1/(1+np.exp(-X@b)); W = n*mu*(1-mu); H = X.T@(W[:,None]*X)
    return b, np.linalg.inv(H), mu
# 2x2: tone(calm,bold) city(paris,rome)
rows=[(0,0,30,1000),(1,0,45,1100),(0,1,52,950),(1,1,60,1020)]
X=np.array([[1,a,c] for a,c,_,_ in rows],float); y=np.array([r[2] for r in rows],float); n=np.array([r[3] for r in rows],float)
b,V,mu=fit(X,y,n)
X2=(((y-n*mu)**2)/(n*mu*(1-mu))).sum(); df=4-3; phi=X2/df; s=max(1,phi)
print('X2',repr(X2),'phi',phi,'scale',s)
se=np.sqrt(np.diag(V)*s); t=b/se; p=2*stats.t.sf(abs(t),df)
print('p',p[1:])
# Holm over the 2 tests, alpha .05
ps=p[1:]; order=np.argsort(ps); m=2; adj=np.zeros(2); run=0
for r,i in enumerate(order): run=max(run,min(1,(m-r)*ps[i])); adj[i]=run
print('holm',adj)
k=next((r for r,i in enumerate(order) if not adj[i]<0.05), m)
for r,i in enumerate(order):
    a=0.05/(m-min(r,k)); q=stats.t.isf(a/2,df)
    print(i,'level',1-a,'OR',np.exp(b[1+i]),'ci',np.exp(b[1+i]-q*se[1+i]),np.exp(b[1+i]+q*se[1+i]))
