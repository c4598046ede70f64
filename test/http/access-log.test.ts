import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { redactUrl } from '../../src/http/access-log.ts';
import { createInfra, type Infra } from '../../src/main/infra.ts';
import { testConfig } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const lines: string[] = [];
let app: FastifyInstance;
let infra: Infra;
let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
  const config = testConfig({ DATABASE_URL: testDb.url, LOG_LEVEL: 'info' });
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'info' }, destination);
  infra = await createInfra(config, logger, 'api');
  app = await buildApp({ config, logger, ...infra });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await infra.close();
  await testDb.drop();
});

describe('the access log', () => {
  it('never holds a signed link’s signature', async () => {
    const secret = 'SIGSECRETabc123';
    const res = await app.inject({
      method: 'GET',
      url: `/v1/media/variants/var_01jz0000000000000000000000/video?expires=9999999999&signature=${secret}`,
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    const logged = lines.filter((l) => l.includes('/v1/media/variants/'));
    expect(logged.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(secret);
    expect(logged.some((l) => l.includes('expires=9999999999&signature=[redacted]'))).toBe(true);
  });

  it('redacts every secret-bearing query parameter, encoded names included', () => {
    expect(redactUrl('/a?x=1&Signature=s&token=t&api_key=k&sig%6eature=z&y')).toBe(
      '/a?x=1&Signature=[redacted]&token=[redacted]&api_key=[redacted]&sig%6eature=[redacted]&y',
    );
    expect(redactUrl('/plain')).toBe('/plain');
  });
});
