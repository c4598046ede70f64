import { createPrivateKey, type KeyObject, sign } from 'node:crypto';

/**
 * The few CBOR shapes a COSE_Sign1 needs. c2pa-wasm hands its signer callback the claim bytes
 * and embeds whatever comes back as the whole COSE_Sign1 (its signer declares direct COSE
 * handling and no certificates), so the envelope and the certificate chain are built here.
 */
type Cbor = null | number | string | Uint8Array | Cbor[] | Map<number | string, Cbor> | Tagged;

interface Tagged {
  tag: number;
  value: Cbor;
}

function head(major: number, n: number): Buffer {
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  if (n < 0x10000) return Buffer.from([m | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = m | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

function encodeCbor(v: Cbor): Buffer {
  if (v === null) return Buffer.from([0xf6]);
  if (typeof v === 'number') return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    return Buffer.concat([head(3, s.length), s]);
  }
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), v]);
  if (Array.isArray(v)) return Buffer.concat([head(4, v.length), ...v.map(encodeCbor)]);
  if (v instanceof Map) {
    const parts = [head(5, v.size)];
    for (const [k, val] of v) parts.push(encodeCbor(k), encodeCbor(val));
    return Buffer.concat(parts);
  }
  return Buffer.concat([head(6, v.tag), encodeCbor(v.value)]);
}

type SigningAlgorithm = 'es256' | 'ed25519';

const COSE_ALG = { es256: -7, ed25519: -8 } as const;
const HEADER_ALG = 1;
const HEADER_X5CHAIN = 33;
const COSE_SIGN1_TAG = 18;

export function algorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'es256';
  }
  throw new Error('C2PA_SIGN_KEY must be an ECDSA P-256 (ES256) or Ed25519 private key');
}

/** The empty bstr and tstr padding entries c2pa-rs itself uses to fill its reserved box. */
function unprotected(padLengths: readonly number[]): Map<string, Cbor> {
  const names = ['pad', 'pad2'];
  return new Map(padLengths.map((n, i) => [names[i] ?? 'pad', new Uint8Array(n)]));
}

/**
 * A detached-payload COSE_Sign1 over `claim`, padded to exactly `size` bytes: c2pa-rs reserves
 * the signature box before signing and refuses a signature of any other length.
 */
export function coseSign1(opts: {
  claim: Uint8Array;
  key: KeyObject | string;
  certsDer: readonly Uint8Array[];
  size: number;
}): Uint8Array {
  const key = typeof opts.key === 'string' ? createPrivateKey(opts.key) : opts.key;
  const alg = algorithmOf(key);
  const protectedBytes = encodeCbor(
    new Map<number, Cbor>([
      [HEADER_ALG, COSE_ALG[alg]],
      [HEADER_X5CHAIN, [...opts.certsDer]],
    ]),
  );
  const toBeSigned = encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), opts.claim]);
  const signature =
    alg === 'es256'
      ? sign('sha256', toBeSigned, { key, dsaEncoding: 'ieee-p1363' })
      : sign(null, toBeSigned, key);
  const envelope = (pads: number[]) =>
    encodeCbor({
      tag: COSE_SIGN1_TAG,
      value: [protectedBytes, unprotected(pads), null, signature],
    });
  // Grow the pad until the envelope fills the box; a length header that jumps a size class
  // can overshoot by a byte or two, which a second (empty-then-grown) pad absorbs.
  for (const padCount of [1, 2]) {
    const zero = new Array<number>(padCount).fill(0);
    const base = envelope(zero).length;
    if (base > opts.size) break;
    for (let n = Math.max(0, opts.size - base - 4); n <= opts.size - base; n++) {
      const pads = [...zero.slice(1), n];
      const out = envelope(pads);
      if (out.length === opts.size) return out;
    }
  }
  throw new Error(`COSE signature does not fit the ${opts.size}-byte box`);
}
