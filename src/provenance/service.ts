import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { sniffImage } from '../assets/sniff.ts';
import type { SecretBox } from '../crypto/secrets.ts';
import type { Db } from '../db/client.ts';
import { readManifestStore, signAsset } from './c2pa.ts';
import { type Credentials, credentialsFrom, developmentCredentials } from './credentials.ts';
import {
  ADMATRIX_ASSERTION,
  type DigitalSourceType,
  isAiGenerated,
  manifestFor,
  type OutputDescription,
  type OutputImage,
} from './manifest.ts';

interface ProvenanceConfig {
  C2PA_SIGN_CERT?: string | undefined;
  C2PA_SIGN_KEY?: string | undefined;
  C2PA_TRUST_ANCHORS?: string | undefined;
}

type ValidationState = 'trusted' | 'valid' | 'invalid' | 'absent';

export interface ProvenanceReport {
  state: ValidationState;
  /** The chain ends at a configured trust anchor (C2PA_TRUST_ANCHORS). */
  trusted: boolean;
  digital_source_type: string | null;
  ai_generated: boolean | null;
  /** The manifest store as c2pa-rs reads it, certificates left out. */
  manifest_store: Record<string, unknown> | null;
  failures: { code: string; explanation?: string | undefined }[];
}

type Json = Record<string, unknown>;

/** An image of an output, read from `path` so credentials it carries stay with it. */
export type SignedImage = Pick<OutputImage, 'title' | 'role'> & { path: string };

/** An image by hash, and by its bytes where c2pa-rs can read credentials out of its format. */
async function imageIngredient({ path, ...img }: SignedImage): Promise<OutputImage> {
  const bytes = await readFile(path);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const format = sniffImage(bytes.subarray(0, 64));
  if (format === 'image/png' || format === 'image/jpeg' || format === 'image/webp') {
    return { ...img, format, sha256, bytes };
  }
  return { ...img, format: format ?? 'application/octet-stream', sha256 };
}

/** Certificates are public, but nothing about the signing credentials leaves the service. */
function withoutCertificates(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutCertificates);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Json)
        .filter(([k]) => !/cert_chain|certificate_chain|x5chain/i.test(k))
        .map(([k, v]) => [k, withoutCertificates(v)]),
    );
  }
  return value;
}

function reportOf(store: Json | null): ProvenanceReport {
  if (!store) {
    return {
      state: 'absent',
      trusted: false,
      digital_source_type: null,
      ai_generated: null,
      manifest_store: null,
      failures: [],
    };
  }
  const state = String(store.validation_state ?? 'Invalid').toLowerCase() as ValidationState;
  const results = (store.validation_results as Json | undefined)?.activeManifest as
    | { failure?: { code: string; explanation?: string }[] }
    | undefined;
  const manifests = (store.manifests ?? {}) as Record<string, Json>;
  const active = manifests[String(store.active_manifest)];
  const actions = (
    (active?.assertions as { label: string; data: { actions?: Json[] } }[] | undefined) ?? []
  ).find((a) => a.label.startsWith('c2pa.actions'))?.data.actions;
  const sourceType =
    (actions?.find((a) => a.action === 'c2pa.created')?.digitalSourceType as string | undefined) ??
    null;
  return {
    state: state === 'trusted' || state === 'valid' ? state : 'invalid',
    trusted: state === 'trusted',
    digital_source_type: sourceType,
    ai_generated: sourceType ? isAiGenerated(sourceType) : null,
    manifest_store: withoutCertificates(store) as Json,
    failures: (results?.failure ?? []).map((f) => ({ code: f.code, explanation: f.explanation })),
  };
}

export function createProvenance(deps: {
  db: Db;
  box: SecretBox;
  config: ProvenanceConfig;
  version: string;
}) {
  const { config } = deps;
  let credentials: Promise<Credentials> | undefined;
  // Made on first use and kept: a configured chain is checked once, the development one is
  // read (or made) once per process.
  const load = () => {
    credentials ??= (
      config.C2PA_SIGN_CERT && config.C2PA_SIGN_KEY
        ? Promise.resolve(
            credentialsFrom(
              { certPem: config.C2PA_SIGN_CERT, keyPem: config.C2PA_SIGN_KEY },
              'configured',
            ),
          )
        : developmentCredentials(deps.db, deps.box)
    ).catch((err: unknown) => {
      credentials = undefined;
      throw err;
    });
    return credentials;
  };

  return {
    /**
     * Signs `input` into `out` (a new file: the input may be the stored render itself) and
     * returns the source type the manifest declares.
     */
    async signFile(p: {
      input: string;
      out: string;
      description: Omit<OutputDescription, 'version' | 'render' | 'shots' | 'images'> & {
        images: readonly SignedImage[];
        render?: { sha256: string; path?: string } | undefined;
        shots: readonly (Omit<OutputDescription['shots'][number], 'bytes'> & { path: string })[];
      };
    }): Promise<{ sourceType: DigitalSourceType }> {
      const { signer } = await load();
      const { render, shots, images, ...rest } = p.description;
      const built = manifestFor({
        ...rest,
        images: await Promise.all(images.map(imageIngredient)),
        shots: await Promise.all(
          shots.map(async ({ path, ...shot }) => ({ ...shot, bytes: await readFile(path) })),
        ),
        version: deps.version,
        render: render && {
          sha256: render.sha256,
          ...(render.path ? { bytes: await readFile(render.path) } : {}),
        },
      });
      const signed = await signAsset({
        manifest: built.manifest,
        ingredients: built.ingredients,
        format: 'video/mp4',
        bytes: await readFile(p.input),
        signer,
      });
      await writeFile(p.out, signed);
      return { sourceType: built.sourceType };
    },

    async verify(bytes: Uint8Array): Promise<ProvenanceReport> {
      try {
        return reportOf(
          await readManifestStore({
            format: 'video/mp4',
            bytes,
            trustAnchorsPem: config.C2PA_TRUST_ANCHORS,
          }),
        );
      } catch (err) {
        // Not an MP4 c2pa-rs can walk, or a manifest too broken to read: either way unproven.
        return {
          ...reportOf(null),
          state: 'invalid',
          failures: [{ code: 'asset.unreadable', explanation: String(err).slice(0, 200) }],
        };
      }
    },

    /** What the API may say about the signer; never the key or the chain. */
    async status() {
      const c = await load();
      return { source: c.source, subject: c.subject, trusted: c.source === 'configured' };
    },

    ids(report: ProvenanceReport): Json | undefined {
      const store = report.manifest_store;
      const active = (store?.manifests as Record<string, Json> | undefined)?.[
        String(store?.active_manifest)
      ];
      return (active?.assertions as { label: string; data: Json }[] | undefined)?.find(
        (a) => a.label === ADMATRIX_ASSERTION,
      )?.data;
    },
  };
}

export type Provenance = ReturnType<typeof createProvenance>;
