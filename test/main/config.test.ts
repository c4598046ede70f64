import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { makeDevelopmentChain } from '../../src/provenance/dev-chain.ts';

const base = { DATABASE_URL: 'postgres://u@127.0.0.1/db', REDIS_URL: 'redis://127.0.0.1:6379' };
const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig({ ...base, ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

describe('configuration', () => {
  it('hash-tags the queue prefix by default, so every key of a deployment is in one Cluster slot', () => {
    expect(loadConfig(base).QUEUE_PREFIX).toBe('{amx}');
    expect(loadConfig({ ...base, QUEUE_PREFIX: 'plain' }).QUEUE_PREFIX).toBe('plain');
    for (const bad of ['{a}{b}', '{open', 'a{b}', 'sp ace', '{}'])
      expect(problemsOf({ QUEUE_PREFIX: bad })[0]).toMatch(/^QUEUE_PREFIX: /);
  });

  it('takes the C2PA certificate and key in pairs, as PEM (\\n escapes allowed)', () => {
    const chain = makeDevelopmentChain();
    expect(problemsOf({ C2PA_SIGN_CERT: chain.certPem })).toEqual([
      'C2PA_SIGN_KEY: C2PA_SIGN_CERT and C2PA_SIGN_KEY go together',
    ]);
    expect(problemsOf({ C2PA_SIGN_CERT: 'nope', C2PA_SIGN_KEY: chain.keyPem })[0]).toMatch(
      /^C2PA_SIGN_CERT: must be PEM/,
    );
    // Checked at start, so a bad chain stops the process instead of failing every render.
    const other = makeDevelopmentChain();
    expect(problemsOf({ C2PA_SIGN_CERT: chain.certPem, C2PA_SIGN_KEY: other.keyPem })).toEqual([
      'C2PA_SIGN_KEY: does not match the first certificate of C2PA_SIGN_CERT',
    ]);
    const caOnly = chain.certPem.slice(chain.certPem.indexOf('-----END CERTIFICATE-----') + 26);
    expect(problemsOf({ C2PA_SIGN_CERT: caOnly, C2PA_SIGN_KEY: chain.keyPem })[0]).toMatch(
      /^C2PA_SIGN_CERT: is a self-signed certificate/,
    );
    const oneLine = loadConfig({
      ...base,
      C2PA_SIGN_CERT: chain.certPem.replaceAll('\n', '\\n'),
      C2PA_SIGN_KEY: chain.keyPem.replaceAll('\n', '\\n'),
    });
    expect(oneLine.C2PA_SIGN_CERT).toBe(chain.certPem);
  });

  it('wants a bucket with STORAGE=s3, and S3 keys in pairs', () => {
    expect(problemsOf({ STORAGE: 's3' })).toEqual(['S3_BUCKET: required when STORAGE=s3']);
    expect(problemsOf({ STORAGE: 's3', S3_BUCKET: 'media', S3_ACCESS_KEY_ID: 'id' })).toEqual([
      'S3_SECRET_ACCESS_KEY: the S3 key id and secret go together',
    ]);
    expect(problemsOf({ STORAGE: 's3', S3_BUCKET: 'media' })).toEqual([]);
    expect(problemsOf({ STORAGE: 'gcs' })[0]).toMatch(/^STORAGE: /);
  });
});
