import { eq } from 'drizzle-orm';
import type { SecretBox } from '../crypto/secrets.ts';
import type { Db } from '../db/client.ts';
import { signingCredentials } from '../db/schema.ts';
import type { CoseSigner } from './c2pa.ts';
import { parseSigningChain } from './chain.ts';
import { coseSign1 } from './cose.ts';
import { makeDevelopmentChain, type SigningChain } from './dev-chain.ts';

const DEVELOPMENT_ID = 'c2pa-development';

/** Room for the chain, the signature and CBOR framing; c2pa-rs pads the box to exactly this. */
const RESERVE_BASE = 1024;

/** The signing side of provenance: never exposes the key, only what the API may say about it. */
export interface Credentials {
  signer: CoseSigner;
  /** `configured`: C2PA_SIGN_CERT/KEY; `development`: the stored local chain, untrusted. */
  source: 'configured' | 'development';
  /** The leaf's subject, for status reports. */
  subject: string;
}

export function credentialsFrom(chain: SigningChain, source: Credentials['source']): Credentials {
  const { certsDer, key, alg, subject } = parseSigningChain(chain);
  const reserveSize = RESERVE_BASE + certsDer.reduce((n, c) => n + c.byteLength + 8, 0);
  return {
    source,
    subject,
    signer: {
      alg,
      reserveSize,
      sign: async (claim) => coseSign1({ claim, key, certsDer, size: reserveSize }),
    },
  };
}

/**
 * The development chain, made by whichever process needs it first: the insert that loses the
 * race reads the winner's, so every worker signs with one chain.
 */
export async function developmentCredentials(db: Db, box: SecretBox): Promise<Credentials> {
  const load = async () =>
    (
      await db.select().from(signingCredentials).where(eq(signingCredentials.id, DEVELOPMENT_ID))
    )[0];
  let row = await load();
  if (!row) {
    const chain = makeDevelopmentChain();
    await db
      .insert(signingCredentials)
      .values({ id: DEVELOPMENT_ID, certPem: chain.certPem, keySealed: box.seal(chain.keyPem) })
      .onConflictDoNothing();
    row = await load();
  }
  if (!row) throw new Error('the development signing chain could not be stored');
  return credentialsFrom({ certPem: row.certPem, keyPem: box.open(row.keySealed) }, 'development');
}
