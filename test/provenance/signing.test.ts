import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/crypto/secrets.ts';
import type { Db } from '../../src/db/client.ts';
import { fileArg } from '../../src/media/ffmpeg.ts';
import { signAsset } from '../../src/provenance/c2pa.ts';
import { credentialsFrom } from '../../src/provenance/credentials.ts';
import { makeDevelopmentChain } from '../../src/provenance/dev-chain.ts';
import { createProvenance } from '../../src/provenance/service.ts';
import { makeTempDir, testMedia } from '../media/helpers.ts';

const media = testMedia();
let tmp: Awaited<ReturnType<typeof makeTempDir>>;
let clip: string;

beforeAll(async () => {
  tmp = await makeTempDir('amx-signing-');
  clip = join(tmp.dir, 'clip.mp4');
  await media.runner.ffmpeg([
    ...['-f', 'lavfi', '-i', 'color=c=blue:s=64x64:d=1:r=10'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', fileArg(clip)],
  ]);
});
afterAll(() => tmp.cleanup());

/** A configured chain needs no database: the development one is the only thing stored. */
const provenanceWith = (config: Record<string, string>) =>
  createProvenance({
    db: undefined as unknown as Db,
    box: createSecretBox(undefined),
    config,
    version: 'test',
  });

async function signClip(
  provenance: ReturnType<typeof provenanceWith>,
  name: string,
  images: { title: string; role: 'overlay' | 'input'; path: string }[] = [],
) {
  const out = join(tmp.dir, name);
  await provenance.signFile({
    input: clip,
    out,
    description: {
      title: name,
      generator: { provider: 'openai', model: 'sora-2' },
      render: undefined,
      shots: [],
      images,
      text: false,
      disclosure: false,
      transcoded: false,
      ids: { campaign_id: 'cmp_1', variant_id: 'var_1', run_id: 'run_1' },
    },
  });
  return readFile(out);
}

const caOf = (certPem: string) =>
  certPem.slice(certPem.indexOf('-----BEGIN', certPem.indexOf('-----END')));

describe('signing credentials', () => {
  it('make certificates that parse whatever the random serial bytes are', () => {
    // All zeros: a serial taken as drawn would start with a padding byte, which OpenSSL refuses
    // (about 1 random certificate in 545 did). All ones: it would read as negative.
    for (const fill of [0x00, 0x3f, 0x80, 0xff]) {
      const chain = makeDevelopmentChain({ random: (size) => new Uint8Array(size).fill(fill) });
      const pems = chain.certPem.split(/(?=-----BEGIN CERTIFICATE-----)/);
      expect(pems).toHaveLength(2);
      for (const pem of pems) expect(() => new X509Certificate(pem), `fill ${fill}`).not.toThrow();
    }
  });

  it('sign with a configured Ed25519 chain; trusted only under its anchor', async () => {
    const chain = makeDevelopmentChain({ leaf: 'ed25519' });
    const config = { C2PA_SIGN_CERT: chain.certPem, C2PA_SIGN_KEY: chain.keyPem };
    const signed = await signClip(provenanceWith(config), 'ed25519.mp4');
    const plain = await provenanceWith(config).verify(signed);
    expect(plain.state).toBe('valid');
    expect(plain.trusted).toBe(false);
    expect(plain.digital_source_type).toBe(
      'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia',
    );
    const store = plain.manifest_store as {
      manifests: Record<string, { signature_info: { alg: string } }>;
      active_manifest: string;
    };
    expect(store.manifests[store.active_manifest]!.signature_info.alg).toBe('Ed25519');

    const anchored = await provenanceWith({
      ...config,
      C2PA_TRUST_ANCHORS: caOf(chain.certPem),
    }).verify(signed);
    expect(anchored.state).toBe('trusted');
    expect(anchored.failures).toEqual([]);
    expect(await provenanceWith(config).status()).toMatchObject({ source: 'configured' });
  });

  it('refuses a key that is not the certificate’s, naming the setting, never the key', async () => {
    const a = makeDevelopmentChain();
    const b = makeDevelopmentChain();
    const provenance = provenanceWith({ C2PA_SIGN_CERT: a.certPem, C2PA_SIGN_KEY: b.keyPem });
    const err = await signClip(provenance, 'mismatch.mp4').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      'C2PA_SIGN_KEY does not match the first certificate of C2PA_SIGN_CERT',
    );
    const garbled = provenanceWith({
      C2PA_SIGN_CERT: a.certPem,
      C2PA_SIGN_KEY: '-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n',
    });
    const err2 = await signClip(garbled, 'garbled.mp4').catch((e: Error) => e);
    expect((err2 as Error).message).toBe('C2PA_SIGN_KEY is not a PEM private key');
  });

  it("keeps a logo's own credentials as its ingredient's manifest", async () => {
    const chain = makeDevelopmentChain();
    const logo = join(tmp.dir, 'logo.png');
    await media.runner.ffmpeg([
      ...['-f', 'lavfi', '-i', 'color=c=red:s=16x16', '-frames:v', '1', '-y', fileArg(logo)],
    ]);
    const signedLogo = join(tmp.dir, 'signed-logo.png');
    await writeFile(
      signedLogo,
      await signAsset({
        manifest: {
          claim_generator_info: [{ name: 'brand-studio', version: '1' }],
          title: 'logo.png',
          format: 'image/png',
          assertions: [
            {
              label: 'c2pa.actions.v2',
              data: {
                actions: [
                  {
                    action: 'c2pa.created',
                    digitalSourceType:
                      'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation',
                  },
                ],
              },
            },
          ],
        },
        ingredients: [],
        format: 'image/png',
        bytes: await readFile(logo),
        signer: credentialsFrom(chain, 'configured').signer,
      }),
    );
    const provenance = provenanceWith({
      C2PA_SIGN_CERT: chain.certPem,
      C2PA_SIGN_KEY: chain.keyPem,
    });
    const report = await provenance.verify(
      await signClip(provenance, 'with-logo.mp4', [
        { title: 'logo', role: 'overlay', path: signedLogo },
      ]),
    );
    expect(report.state).toBe('valid');
    // biome-ignore lint/suspicious/noExplicitAny: a C2PA manifest store, read by key
    const store = report.manifest_store as Record<string, any>;
    const ingredient = store.manifests[store.active_manifest].ingredients[0];
    expect(ingredient.title).toBe('logo');
    expect(ingredient.metadata['com.admatrix.sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(store.manifests[ingredient.active_manifest].claim_generator_info[0].name).toBe(
      'brand-studio',
    );
  });

  it('reads an unsigned MP4 as absent and bytes that are no MP4 as invalid', async () => {
    const provenance = provenanceWith({});
    expect((await provenance.verify(await readFile(clip))).state).toBe('absent');
    const junk = await provenance.verify(Buffer.from('not a video at all'));
    expect(junk.state).toBe('invalid');
    expect(junk.failures[0]!.code).toBe('asset.unreadable');
  });
});
