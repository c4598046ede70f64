import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  id_kp_emailProtection,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
} from '@peculiar/asn1-x509';

/** A signing chain as PEM: the leaf first, then its issuers; the leaf's private key as PKCS#8. */
export interface SigningChain {
  certPem: string;
  keyPem: string;
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';
const ORGANIZATION = '2.5.4.10';
const YEAR_MS = 365 * 24 * 3600 * 1000;

function name(cn: string): Name {
  const attr = (type: string, value: string) =>
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
    ]);
  return new Name([attr(ORGANIZATION, 'admatrix'), attr(COMMON_NAME, cn)]);
}

function extension(extnID: string, critical: boolean, value: unknown): Extension {
  return new Extension({
    extnID,
    critical,
    extnValue: new OctetString(AsnConvert.serialize(value)),
  });
}

function spki(key: KeyObject): SubjectPublicKeyInfo {
  return AsnConvert.parse(key.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits. */
function keyId(key: KeyObject): ArrayBuffer {
  const bits = spki(key).subjectPublicKey;
  return new Uint8Array(createHash('sha1').update(new Uint8Array(bits)).digest()).buffer;
}

function certificate(opts: {
  subject: Name;
  issuer: Name;
  publicKey: KeyObject;
  issuerKey: KeyObject;
  issuerPublicKey: KeyObject;
  extensions: Extension[];
  now: Date;
  random: (size: number) => Uint8Array;
}): string {
  const algorithm = new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 });
  // Positive 16-byte serial in minimal DER: the top bit clear (not negative) and the next one set
  // (a leading zero byte would be padding, which OpenSSL refuses: about 1 certificate in 545
  // did not parse, and a test making a chain then failed).
  const serial = opts.random(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  const tbs = new TBSCertificate({
    version: 2,
    serialNumber: new Uint8Array(serial).buffer,
    signature: algorithm,
    issuer: opts.issuer,
    subject: opts.subject,
    validity: new Validity({
      notBefore: new Date(opts.now.getTime() - 3600 * 1000),
      notAfter: new Date(opts.now.getTime() + 10 * YEAR_MS),
    }),
    subjectPublicKeyInfo: spki(opts.publicKey),
    extensions: new Extensions([
      ...opts.extensions,
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId(opts.publicKey))),
      extension(
        id_ce_authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({
          keyIdentifier: new KeyIdentifier(keyId(opts.issuerPublicKey)),
        }),
      ),
    ]),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = sign('sha256', tbsDer, opts.issuerKey);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm,
    signatureValue: new Uint8Array(signature).buffer,
  });
  const der = Buffer.from(AsnConvert.serialize(cert));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * A development chain: a local CA and a P-256 (or, for tests, Ed25519) leaf it signed. c2pa-rs refuses self-signed
 * signing certificates and checks the leaf's key usage and extended key usage, so the leaf has
 * digitalSignature and emailProtection (one of the EKUs the C2PA trust profile accepts). The
 * CA's private key is dropped: nothing else is ever issued from it.
 */
export function makeDevelopmentChain(
  opts: {
    now?: Date;
    leaf?: 'es256' | 'ed25519';
    /** Where serial numbers come from (tests pin it to reach the edge cases). */
    random?: (size: number) => Uint8Array;
  } = {},
): SigningChain {
  const now = opts.now ?? new Date();
  const random = opts.random ?? randomBytes;
  const ca = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf =
    opts.leaf === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const caName = name('admatrix development CA (untrusted)');
  const caPem = certificate({
    subject: caName,
    issuer: caName,
    publicKey: ca.publicKey,
    random,
    issuerKey: ca.privateKey,
    issuerPublicKey: ca.publicKey,
    now,
    extensions: [
      extension(
        id_ce_basicConstraints,
        true,
        new BasicConstraints({ cA: true, pathLenConstraint: 0 }),
      ),
      extension(
        id_ce_keyUsage,
        true,
        new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign),
      ),
    ],
  });
  const leafPem = certificate({
    subject: name('admatrix development signer (untrusted)'),
    issuer: caName,
    publicKey: leaf.publicKey,
    random,
    issuerKey: ca.privateKey,
    issuerPublicKey: ca.publicKey,
    now,
    extensions: [
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
      extension(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
      extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_emailProtection])),
    ],
  });
  return {
    certPem: leafPem + caPem,
    keyPem: leaf.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
