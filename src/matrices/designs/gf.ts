/**
 * Finite fields GF(p^e) and Rao–Hamming orthogonal arrays. Level counts that are prime powers
 * get exact OAs from here; GF(4), GF(8), GF(9)... need real polynomial arithmetic (mod-q
 * arithmetic is not a field unless q is prime), which is why the tables are built from an
 * irreducible polynomial.
 */
interface GaloisField {
  readonly q: number;
  readonly add: Uint16Array;
  readonly mul: Uint16Array;
}

/** Largest field we build tables for: q*q entries per table. */
export const MAX_FIELD = 256;

export function primePower(q: number): { p: number; e: number } | null {
  if (!Number.isInteger(q) || q < 2) return null;
  let p = 2;
  while (p * p <= q && q % p !== 0) p++;
  if (q % p !== 0) p = q;
  let e = 0;
  let rest = q;
  while (rest % p === 0) {
    rest /= p;
    e++;
  }
  return rest === 1 ? { p, e } : null;
}

/** Smallest prime power >= n. */
export function nextPrimePower(n: number): number {
  let q = Math.max(2, n);
  while (primePower(q) === null) q++;
  return q;
}

/** Coefficients (low degree first) of polynomial number x in base p, padded to `len`. */
function digits(x: number, p: number, len: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < len; i++) {
    out.push(x % p);
    x = Math.floor(x / p);
  }
  return out;
}

/** Remainder of a (low degree first) modulo monic m, over GF(p). */
function polyMod(a: number[], m: number[], p: number): number[] {
  const r = a.slice();
  const dm = m.length - 1;
  for (let i = r.length - 1; i >= dm; i--) {
    const c = r[i]!;
    if (c === 0) continue;
    for (let j = 0; j <= dm; j++) r[i - dm + j] = (((r[i - dm + j]! - c * m[j]!) % p) + p) % p;
  }
  return r.slice(0, dm);
}

function isIrreducible(poly: number[], p: number): boolean {
  const e = poly.length - 1;
  for (let deg = 1; deg * 2 <= e; deg++) {
    for (let x = 0; x < p ** deg; x++) {
      const divisor = [...digits(x, p, deg), 1];
      if (polyMod(poly, divisor, p).every((c) => c === 0)) return false;
    }
  }
  return true;
}

export function galoisField(q: number): GaloisField {
  const pp = primePower(q);
  if (pp === null || q > MAX_FIELD) throw new RangeError(`no field table for q=${q}`);
  const { p, e } = pp;
  let modulus: number[] = [0, 1];
  if (e > 1) {
    for (let x = 0; x < q; x++) {
      const candidate = [...digits(x, p, e), 1];
      if (isIrreducible(candidate, p)) {
        modulus = candidate;
        break;
      }
    }
  }
  const add = new Uint16Array(q * q);
  const mul = new Uint16Array(q * q);
  const toNumber = (ds: number[]): number => ds.reduceRight((acc, c) => acc * p + c, 0);
  for (let a = 0; a < q; a++) {
    const da = digits(a, p, e);
    for (let b = 0; b < q; b++) {
      const db = digits(b, p, e);
      add[a * q + b] = toNumber(da.map((c, i) => (c + db[i]!) % p));
      const prod = new Array<number>(2 * e).fill(0);
      for (let i = 0; i < e; i++) {
        for (let j = 0; j < e; j++) prod[i + j] = (prod[i + j]! + da[i]! * db[j]!) % p;
      }
      mul[a * q + b] = toNumber(e === 1 ? [prod[0]!] : polyMod(prod, modulus, p));
    }
  }
  return { q, add, mul };
}

export function raoHammingColumns(q: number, m: number): number {
  return (q ** m - 1) / (q - 1);
}

/**
 * Rao–Hamming OA(q^m, k, q, 2): rows are all vectors x of GF(q)^m, columns are k projective
 * points c (first nonzero coordinate 1), entry = x·c. Any two columns are linearly independent,
 * so every level pair appears exactly q^(m-2) times. Unit vectors come first, then heavier
 * points, which for 2-level designs keeps main effects clear of two-factor interactions as
 * long as possible (e.g. 2^4 in 8 runs is resolution IV).
 */
export function raoHamming(q: number, m: number, k: number): Int32Array {
  const field = galoisField(q);
  const points: number[][] = [];
  for (let x = 1; x < q ** m; x++) {
    const v = digits(x, q, m).reverse();
    if (v.find((c) => c !== 0) === 1) points.push(v);
  }
  const weight = (v: number[]): number => v.filter((c) => c !== 0).length;
  points.sort((a, b) => {
    const ua = weight(a) === 1 ? 1 : 0;
    const ub = weight(b) === 1 ? 1 : 0;
    return ub - ua || weight(b) - weight(a);
  });
  if (k > points.length) throw new RangeError('too many columns for this orthogonal array');
  const cols = points.slice(0, k);
  const n = q ** m;
  const out = new Int32Array(n * k);
  for (let r = 0; r < n; r++) {
    const x = digits(r, q, m).reverse();
    for (let c = 0; c < k; c++) {
      const col = cols[c]!;
      let acc = 0;
      for (let t = 0; t < m; t++) acc = field.add[acc * q + field.mul[x[t]! * q + col[t]!]!]!;
      out[r * k + c] = acc;
    }
  }
  return out;
}
