import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initSync, WasmBuilder, WasmReader } from '@contentauth/c2pa-wasm';

/**
 * c2pa-rs compiled to WebAssembly (`@contentauth/c2pa-wasm`): the whole builder and reader ship
 * inside the npm package, so nothing is downloaded at install or run time (`c2pa-node` fetches a
 * native binary on install). Built for browsers, it reads a `Blob` through `FileReaderSync`;
 * Node has neither that reader nor synchronous Blob reads, so assets are handed over as
 * in-memory views that answer the same three calls (`size`, `slice`, `readAsArrayBuffer`).
 */
class BytesBlob {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  get size(): number {
    return this.bytes.byteLength;
  }
  slice(start = 0, end = this.bytes.byteLength): BytesBlob {
    return new BytesBlob(this.bytes.subarray(start, end));
  }
}

class BytesReader {
  readAsArrayBuffer(blob: BytesBlob): ArrayBuffer {
    // A copy: a Buffer's own ArrayBuffer may be a larger shared pool.
    return new Uint8Array(blob.bytes).buffer;
  }
}

let ready = false;

function init(): void {
  if (ready) return;
  const g = globalThis as { FileReaderSync?: unknown };
  g.FileReaderSync ??= BytesReader;
  const require = createRequire(import.meta.url);
  initSync({ module: readFileSync(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });
  ready = true;
}

const asBlob = (bytes: Uint8Array) => new BytesBlob(bytes) as unknown as Blob;

export interface CoseSigner {
  alg: 'es256' | 'ed25519';
  reserveSize: number;
  /** Receives the claim bytes, returns the whole COSE_Sign1 (see cose.ts). */
  sign(claim: Uint8Array): Promise<Uint8Array>;
}

export interface IngredientInput {
  /** Ingredient JSON (title, relationship, label, …). */
  definition: Record<string, unknown>;
  /** The asset itself when it may carry its own manifest, which is then kept. */
  asset?: { format: string; bytes: Uint8Array };
}

/**
 * Trust is checked by the reader, not at signing: a development chain (or a configured one
 * not on any trust list) would otherwise fail c2pa-rs's sign-then-verify sanity check.
 */
const SIGNING_SETTINGS = JSON.stringify({ verify: { verify_trust: false } });

export async function signAsset(p: {
  manifest: Record<string, unknown>;
  ingredients: readonly IngredientInput[];
  format: string;
  bytes: Uint8Array;
  signer: CoseSigner;
}): Promise<Uint8Array> {
  init();
  const builder = WasmBuilder.fromJson(JSON.stringify(p.manifest), SIGNING_SETTINGS);
  try {
    for (const ing of p.ingredients) {
      const json = JSON.stringify(ing.definition);
      if (ing.asset)
        await builder.addIngredientFromBlob(json, ing.asset.format, asBlob(ing.asset.bytes));
      else builder.addIngredient(json);
    }
    return await builder.sign(
      {
        alg: p.signer.alg,
        reserveSize: p.signer.reserveSize,
        sign: (b) => p.signer.sign(b) as never,
      },
      [],
      p.format,
      asBlob(p.bytes),
    );
  } finally {
    builder.free();
  }
}

/** The manifest store as c2pa-rs reports it (with `validation_state`), or null when none. */
export async function readManifestStore(p: {
  format: string;
  bytes: Uint8Array;
  trustAnchorsPem?: string | undefined;
}): Promise<Record<string, unknown> | null> {
  init();
  const settings = p.trustAnchorsPem
    ? JSON.stringify({
        trust: { trust_anchors: p.trustAnchorsPem },
        verify: { verify_trust: true },
      })
    : JSON.stringify({ verify: { verify_trust: true } });
  let reader: WasmReader;
  try {
    reader = await WasmReader.fromBytes(p.format, p.bytes, settings);
  } catch (err) {
    if (/JumbfNotFound|ManifestNotFound|ProvenanceMissing/i.test(String(err))) return null;
    throw err;
  }
  try {
    return JSON.parse(reader.json()) as Record<string, unknown>;
  } finally {
    reader.free();
  }
}
