import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { buildApp } from '../../src/app.ts';
import { assetSchema } from '../../src/assets/schemas.ts';
import {
  campaignSchema,
  createCampaignBody,
  updateCampaignBody,
} from '../../src/campaigns/schemas.ts';
import { loadConfig } from '../../src/config.ts';
import { createDeliveryBody } from '../../src/deliveries/schemas.ts';
import { problemSchema } from '../../src/http/problem.ts';
import { createInfra } from '../../src/main/infra.ts';
import { previewSchema } from '../../src/matrices/preview-schemas.ts';
import { createMatrixBody, designSchema, matrixSchema } from '../../src/matrices/schemas.ts';
import { metricsBody } from '../../src/metrics/schemas.ts';
import { reviewBody } from '../../src/reviews/schemas.ts';
import { createRunBody, runAcceptedSchema, runSchema } from '../../src/runs/schemas.ts';
import { variantSchema } from '../../src/variants/schemas.ts';
import { createEndpointBody } from '../../src/webhooks/schemas.ts';

// biome-ignore lint/suspicious/noExplicitAny: a parsed OpenAPI document, read by key
type Json = Record<string, any>;

// Built the way scripts/openapi.ts builds it (connecting nowhere), so the test sees the code,
// not a committed file that may be stale.
async function generate(): Promise<Json> {
  const config = loadConfig({
    DATABASE_URL: 'postgres://localhost/admatrix',
    REDIS_URL: 'redis://localhost:6379',
    LOG_LEVEL: 'silent',
  });
  const logger = pino({ level: 'silent' });
  const infra = await createInfra(config, logger, 'api', { verifySchema: false, lazyRedis: true });
  const app = await buildApp({ config, logger, ...infra });
  await app.ready();
  const document = JSON.parse(JSON.stringify(app.swagger())) as Json;
  await app.close();
  await infra.close();
  return document;
}

let doc: Json;
const operations: { method: string; path: string; op: Json }[] = [];
beforeAll(async () => {
  doc = await generate();
  for (const [path, item] of Object.entries(doc.paths as Json))
    for (const [method, op] of Object.entries(item as Json))
      operations.push({ method: method.toUpperCase(), path, op });
});

const op = (method: string, path: string) => {
  const found = operations.find((o) => o.method === method && o.path === path);
  if (!found) throw new Error(`${method} ${path} is not in the document`);
  return found.op;
};
const header = (o: Json, name: string) =>
  (o.parameters ?? []).find((p: Json) => p.in === 'header' && p.name === name);

describe('the OpenAPI document', () => {
  it('names and describes every operation, each operationId once', () => {
    expect(operations.length).toBeGreaterThan(30);
    for (const { method, path, op: o } of operations) {
      expect(o.operationId, `${method} ${path}`).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(o.description?.length, `${method} ${path}`).toBeGreaterThan(20);
      expect(o.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(o.responses as Json))
        expect(response.description, `${method} ${path} ${status}`).not.toBe('Default Response');
    }
    const defined = new Set(doc.tags.map((t: Json) => t.name));
    for (const { op: o } of operations) for (const tag of o.tags) expect(defined).toContain(tag);
    const ids = operations.map((o) => o.op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    expect(op('POST', '/v1/campaigns').operationId).toBe('createCampaign');
    expect(op('GET', '/v1/variants').operationId).toBe('listVariants');
  });

  it('declares Idempotency-Key: required on POST runs, optional on other POSTs', () => {
    expect(header(op('POST', '/v1/campaigns/{id}/runs'), 'Idempotency-Key')).toMatchObject({
      required: true,
      schema: { type: 'string', maxLength: 255 },
    });
    expect(header(op('POST', '/v1/campaigns'), 'Idempotency-Key')).toMatchObject({
      required: false,
    });
    // Routes that refuse the header (streamed uploads) do not advertise it.
    expect(header(op('POST', '/v1/metrics'), 'Idempotency-Key')).toBeUndefined();
    expect(header(op('GET', '/v1/campaigns'), 'Idempotency-Key')).toBeUndefined();
  });

  it('declares the levels[dimension] filter as a deepObject', () => {
    const levels = op('GET', '/v1/variants').parameters.find((p: Json) => p.name === 'levels');
    expect(levels).toMatchObject({
      in: 'query',
      style: 'deepObject',
      explode: true,
      schema: { type: 'object', additionalProperties: { type: 'string' } },
    });
  });

  it('gives the media routes their file types, Range and 206/416', () => {
    const media = [
      [op('GET', '/v1/variants/{id}/video'), ['video/mp4']],
      [op('GET', '/v1/variants/{id}/thumbnail'), ['image/jpeg']],
      [op('GET', '/v1/media/variants/{id}/{what}'), ['video/mp4', 'image/jpeg']],
    ] as const;
    for (const [o, types] of media) {
      expect(Object.keys(o.responses['200'].content)).toEqual(types);
      for (const type of types)
        expect(o.responses['200'].content[type].schema).toEqual({
          type: 'string',
          format: 'binary',
        });
    }
    for (const o of [media[0][0], media[2][0]]) {
      expect(Object.keys(o.responses['206'].content)).toEqual(['video/mp4']);
      expect(o.responses['206'].headers['Content-Range']).toBeDefined();
      expect(o.responses['416']).toBeDefined();
      expect(header(o, 'Range')).toMatchObject({ required: false });
    }
    expect(media[1][0].responses['206']).toBeUndefined();
  });

  it('declares the statuses each kind of route can answer, all as problem+json', () => {
    const codes = (o: Json) => Object.keys(o.responses);
    expect(codes(op('POST', '/v1/campaigns/{id}/runs'))).toEqual(
      expect.arrayContaining(['400', '401', '403', '404', '409', '413', '414', '415', '422']),
    );
    expect(codes(op('POST', '/v1/campaigns/{id}/runs'))).toEqual(
      expect.arrayContaining(['429', '431', '503']),
    );
    expect(codes(op('POST', '/v1/metrics'))).toEqual(
      expect.arrayContaining(['400', '401', '403', '413', '415', '422', '429']),
    );
    expect(codes(op('GET', '/healthz'))).toEqual(['200', '431']);
    expect(codes(op('POST', '/v1/providers/openai/webhook'))).not.toContain('401');
    expect(codes(op('POST', '/v1/providers/openai/webhook'))).not.toContain('429');
    for (const { method, path, op: o } of operations) {
      for (const [status, response] of Object.entries(o.responses as Json)) {
        if (Number(status) < 400) continue;
        expect(response.content, `${method} ${path} ${status}`).toEqual({
          'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
        });
        if (status === '429' || status === '503')
          expect(response.headers?.['Retry-After'], `${method} ${path} ${status}`).toBeDefined();
      }
    }
    expect(doc.components.schemas.Problem.properties).toMatchObject({
      type: {},
      title: {},
      status: {},
      detail: {},
      instance: {},
      request_id: {},
      errors: { items: { properties: { path: {}, message: {}, row: {}, column: {} } } },
    });
  });

  it('has servers relative without PUBLIC_URL', () => {
    expect(doc.servers).toEqual([{ url: '/' }]);
  });

  it('has examples that are valid against their own schemas', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addFormat('binary', true);
    ajv.addSchema({ $id: 'components', $defs: doc.components.schemas });
    const local = (schema: unknown) =>
      JSON.parse(
        JSON.stringify(schema).replaceAll('"#/components/schemas/', '"components#/$defs/'),
      );
    const failures: string[] = [];
    let checked = 0;
    const check = (where: string, schema: unknown, example: unknown) => {
      checked++;
      const validate = ajv.compile(local(schema));
      if (!validate(example))
        failures.push(`${where}: ${JSON.stringify(example)} ${ajv.errorsText(validate.errors)}`);
    };
    // Every schema with `examples` or `example`, and every media type or parameter with one.
    const walk = (node: unknown, where: string) => {
      if (Array.isArray(node)) {
        for (const [i, n] of node.entries()) walk(n, `${where}/${i}`);
        return;
      }
      if (!node || typeof node !== 'object') return;
      const n = node as Json;
      const isSchemaHolder = 'schema' in n && typeof n.schema === 'object';
      if (isSchemaHolder && 'example' in n) check(where, n.schema, n.example);
      if (isSchemaHolder && n.examples && !Array.isArray(n.examples))
        for (const [name, ex] of Object.entries(n.examples as Json))
          check(`${where}#${name}`, n.schema, ex.value);
      if (!isSchemaHolder && Array.isArray(n.examples) && ('type' in n || '$ref' in n))
        for (const [i, ex] of n.examples.entries()) check(`${where}#${i}`, n, ex);
      if (!isSchemaHolder && 'example' in n && 'type' in n) check(where, n, n.example);
      for (const [key, value] of Object.entries(n)) walk(value, `${where}/${key}`);
    };
    walk(doc.paths, '#/paths');
    walk(doc.components, '#/components');
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(40);
  });

  it('has examples the API itself accepts (bodies) and could send (responses)', () => {
    const schemas: Record<string, z.ZodType> = {
      createCampaignBody,
      updateCampaignBody,
      createRunBody,
      designSchema,
      reviewBody,
      createDeliveryBody,
      createEndpointBody,
      matrixJson: createMatrixBody.content['application/json'].schema,
      metricsJson: metricsBody.content['application/json'].schema,
      problemSchema,
      assetSchema,
      campaignSchema,
      matrixSchema,
      previewSchema,
      runSchema,
      runAcceptedSchema,
      variantSchema,
    };
    for (const [name, schema] of Object.entries(schemas)) {
      const examples = (schema.meta() as { examples?: unknown[] } | undefined)?.examples;
      expect(examples?.length, name).toBeGreaterThan(0);
      for (const example of examples ?? [])
        expect(schema.safeParse(example).error?.issues, name).toBeUndefined();
    }
  });
});
