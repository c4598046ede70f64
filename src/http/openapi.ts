import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorDescriptions } from './problem.ts';

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];
type TransformObjectInput = Parameters<typeof jsonSchemaTransformObject>[0];
type ContentBody = { content: Record<string, { schema: z.ZodType }> };
type Json = Record<string, unknown>;

interface RouteFacts {
  method: string;
  url: string;
  config: {
    scope?: string;
    public?: boolean;
    idempotency?: string;
    rateLimit?: unknown;
    storeRedirect?: boolean;
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route may answer 302 to the media store (S3_MEDIA_REDIRECT); declared in OpenAPI. */
    storeRedirect?: boolean;
  }
}

const storeRedirect = {
  description:
    'With STORAGE=s3 and S3_MEDIA_REDIRECT: the file in the bucket, by a time-limited presigned URL; send the same Range there',
  headers: {
    Location: { type: 'string', format: 'uri', description: 'The presigned URL' },
    'Cache-Control': {
      type: 'string',
      description:
        'private, max-age of at most a minute less than the presigned URL lives (S3_PRESIGN_TTL_SECONDS), or no-store when it lives a minute or less',
    },
  },
};

function isContentBody(body: unknown): body is ContentBody {
  return typeof body === 'object' && body !== null && 'content' in body;
}

const problemRef = { $ref: '#/components/schemas/Problem' };

/** A response body that is a file, not JSON: for the media routes' `response` declarations. */
export function fileResponse(description: string, contentTypes: readonly string[]) {
  // Typed as any: the handler sends a stream, which fastify passes through unserialized.
  const schema = z.any().meta({ type: 'string', format: 'binary' });
  return {
    description,
    content: Object.fromEntries(contentTypes.map((type) => [type, { schema }])),
  };
}

/**
 * Per route: converts the zod schemas (jsonSchemaTransform), bodies given per content type
 * (which jsonSchemaTransform leaves alone), and declares what every route of its kind can
 * answer, derived from its config, so no route has to remember the framework's statuses.
 */
export function openapiTransform(input: TransformInput) {
  const original = (input.schema ?? {}) as Json;
  const transformed = transformSchemas(input);
  const schema = transformed.schema as Json | undefined;
  const route = (input as { route?: RouteFacts }).route;
  if (!schema || schema.hide || !route) return transformed;
  const methods = [route.method].flat().map((m) => m.toUpperCase());
  return {
    ...transformed,
    schema: declareContract(schema, {
      method: methods[0] ?? 'GET',
      url: input.url,
      config: route.config ?? {},
      hasParams: input.url.includes(':'),
      deepObjects: deepObjectsOf(original.querystring),
    }),
  };
}

function transformSchemas(input: TransformInput) {
  const body = (input.schema as { body?: unknown } | undefined)?.body;
  if (!isContentBody(body)) return jsonSchemaTransform(input);
  const { body: _omitted, ...rest } = input.schema as Json;
  const transformed = jsonSchemaTransform({ ...input, schema: rest } as TransformInput);
  const content = Object.fromEntries(
    Object.entries(body.content).map(([type, { schema }]) => [
      type,
      {
        schema: inlineDefs(
          z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' }),
        ),
      },
    ]),
  );
  return { ...transformed, schema: { ...transformed.schema, body: { content } } };
}

const deepObjectQueries = new WeakMap<object, Record<string, z.ZodType>>();

/**
 * Declares `name[key]=value` query parameters (OpenAPI's deepObject style) that a querystring
 * schema takes through its catchall; fastify-swagger lists only plain properties.
 */
export function withDeepObjects<T extends z.ZodType>(query: T, objects: Record<string, z.ZodType>) {
  deepObjectQueries.set(query, objects);
  return query;
}

function deepObjectsOf(querystring: unknown): Record<string, Json> | undefined {
  const declared = querystring ? deepObjectQueries.get(querystring as object) : undefined;
  if (!declared) return undefined;
  return Object.fromEntries(
    Object.entries(declared).map(([name, schema]) => [
      name,
      z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as Json,
    ]),
  );
}

interface Contract extends RouteFacts {
  hasParams: boolean;
  deepObjects: Record<string, Json> | undefined;
}

const idempotencyKey = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: '^[\\x21-\\x7e]+$',
  description:
    'Any unique string (a UUID): a retry with the same key and body replays the first response (for IDEMPOTENCY_TTL_HOURS, 24 by default) instead of acting twice.',
  examples: ['3f1c2a9e-7d4b-4e8a-9b1d-2c6f0e5a8b7d'],
};

/** Whether a POST takes an Idempotency-Key ('refused': idempotent by content, a key is a 400). */
const keyed = (c: Contract) => c.config.idempotency !== 'off' && c.config.idempotency !== 'refused';

/** The statuses a route can answer besides its own, from what it is. */
function derivedStatuses(c: Contract): number[] {
  const statuses = [431]; // the request line or headers over 16 KB, before any route runs
  if (!c.url.startsWith('/v1/')) return statuses;
  statuses.push(400); // bad URL encoding, U+0000 in the query or path
  if (!c.config.public) statuses.push(401);
  if (c.config.scope) statuses.push(403);
  if (c.config.rateLimit !== false) statuses.push(429);
  if (c.hasParams) statuses.push(404, 414);
  if (['POST', 'PUT', 'PATCH'].includes(c.method)) statuses.push(413, 415);
  if (c.method === 'POST' && keyed(c)) statuses.push(409, 422);
  return statuses;
}

const responseHeaders: Record<number, Record<string, Json>> = {
  401: {
    'WWW-Authenticate': { type: 'string', description: 'Bearer', examples: ['Bearer'] },
  },
  416: {
    'Content-Range': {
      type: 'string',
      description: 'The size of the file: bytes */SIZE',
      examples: ['bytes */1048576'],
    },
  },
  429: {
    'Retry-After': {
      type: 'integer',
      minimum: 1,
      description: 'Seconds to wait before retrying',
      examples: [30],
    },
  },
  503: {
    'Retry-After': {
      type: 'integer',
      minimum: 1,
      description: 'Seconds to wait before retrying',
      examples: [5],
    },
  },
};

// Response headers as fastify-swagger takes them: a schema whose description it lifts out.
const rangeHeaders = {
  'Accept-Ranges': { type: 'string', enum: ['bytes', 'none'] },
  ETag: { type: 'string', description: 'The SHA-256 of the file, quoted' },
  'Content-Length': { type: 'integer', minimum: 0 },
};

// fastify-swagger says "Default Response" where a route gives no description.
const successDescriptions: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted: the work is queued',
  204: 'Done; no body',
};

function declareContract(schema: Json, c: Contract): Json {
  const response = { ...((schema.response ?? {}) as Record<string, Json>) };
  const ranged = '206' in response;
  const statuses = new Set([
    ...Object.keys(response).map(Number),
    ...derivedStatuses(c),
    ...(ranged ? [416] : []),
  ]);
  for (const status of statuses) {
    if (status < 400) continue;
    response[status] = {
      description: errorDescriptions[status] ?? 'Error',
      ...(responseHeaders[status] ? { headers: responseHeaders[status] } : {}),
      content: { 'application/problem+json': { schema: problemRef } },
    };
  }
  if (c.config.storeRedirect) response['302'] = storeRedirect;
  if (ranged) {
    response['200'] = { ...response['200'], headers: rangeHeaders };
    response['206'] = {
      ...response['206'],
      headers: {
        ...rangeHeaders,
        'Content-Range': {
          type: 'string',
          description: 'bytes START-END/SIZE',
          examples: ['bytes 0-1023/1048576'],
        },
      },
    };
  }

  const headerProps: Record<string, Json> = {};
  const required: string[] = [];
  if (c.method === 'POST' && c.url.startsWith('/v1/') && keyed(c)) {
    headerProps['Idempotency-Key'] = idempotencyKey;
    if (c.config.idempotency === 'required') required.push('Idempotency-Key');
  }
  if (ranged)
    headerProps.Range = {
      type: 'string',
      description: 'One byte range, e.g. bytes=0-1023; other forms are answered in full',
      examples: ['bytes=0-1023'],
    };
  const headers = Object.keys(headerProps).length
    ? { headers: { type: 'object', properties: headerProps, required } }
    : {};
  const deepObjects = c.deepObjects ? { 'x-deep-object': c.deepObjects } : {};
  const sorted = Object.fromEntries(
    Object.entries(response).sort(([a], [b]) => a.localeCompare(b)),
  );
  return { ...schema, ...headers, ...deepObjects, response: sorted };
}

/**
 * The whole document: component schemas (jsonSchemaTransformObject), then what no single
 * route knows: deepObject query parameters, zod's safe-integer bounds (noise that makes
 * Swagger UI show -9007199254740991), and component schemas nothing refers to (zod emits an
 * input twin of each named schema whether or not a request uses it).
 */
export function openapiTransformObject(input: TransformObjectInput) {
  const document = jsonSchemaTransformObject(input) as Json;
  document.tags = tags;
  addDeepObjectParameters(document);
  describeSuccesses(document);
  dropSafeIntegerBounds(document);
  dropUnusedSchemas(document);
  return document;
}

// One per domain, in the order a new user meets them; routes name theirs in `schema.tags`.
const tags = [
  { name: 'keys', description: 'The calling API key: its tenant and scopes.' },
  { name: 'campaigns', description: 'The brief, prompt template, video settings and budget.' },
  { name: 'assets', description: 'Logos drawn on the videos of the levels that name them.' },
  {
    name: 'matrices',
    description: 'The variables of the test: dimensions, their levels, and exclusions.',
  },
  {
    name: 'runs',
    description: 'A design over a matrix, fanned out into variants and rendered.',
  },
  {
    name: 'variants',
    description: 'One rendered video per combination of levels: status, lineage, media, review.',
  },
  {
    name: 'deliveries',
    description: 'Where variants went, and signed links to their media.',
  },
  { name: 'metrics', description: 'Daily performance per variant, date and platform.' },
  { name: 'reports', description: 'Per-variant performance and per-level effects.' },
  {
    name: 'provenance',
    description: 'C2PA content credentials: read back, validated, and checked on an uploaded MP4.',
  },
  { name: 'webhooks', description: 'Endpoints, the events sent to them, and the attempt log.' },
  { name: 'providers', description: 'Callbacks from the video providers.' },
  { name: 'operations', description: 'Liveness and readiness probes.' },
];

function operationsOf(document: Json): Json[] {
  return Object.values((document.paths ?? {}) as Record<string, Record<string, Json>>).flatMap(
    (item) => Object.values(item),
  );
}

function addDeepObjectParameters(document: Json) {
  for (const operation of operationsOf(document)) {
    const deep = operation['x-deep-object'] as Record<string, Json> | undefined;
    if (!deep) continue;
    delete operation['x-deep-object'];
    const parameters = (operation.parameters ?? []) as Json[];
    for (const [name, schema] of Object.entries(deep)) {
      const { description, examples, $schema: _dialect, ...rest } = schema;
      parameters.push({
        in: 'query',
        name,
        style: 'deepObject',
        explode: true,
        required: false,
        ...(description ? { description } : {}),
        schema: { ...rest, ...(examples ? { examples } : {}) },
        ...(Array.isArray(examples) && examples.length ? { example: examples[0] } : {}),
      });
    }
    operation.parameters = parameters;
  }
}

function describeSuccesses(document: Json) {
  for (const operation of operationsOf(document))
    for (const [status, response] of Object.entries(operation.responses as Record<string, Json>))
      if (response.description === 'Default Response' && successDescriptions[status])
        response.description = successDescriptions[status];
}

const safeBound = Number.MAX_SAFE_INTEGER;

function dropSafeIntegerBounds(node: unknown) {
  if (Array.isArray(node)) {
    for (const item of node) dropSafeIntegerBounds(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const record = node as Json;
  if (record.minimum === -safeBound) delete record.minimum;
  if (record.maximum === safeBound) delete record.maximum;
  for (const value of Object.values(record)) dropSafeIntegerBounds(value);
}

function dropUnusedSchemas(document: Json) {
  const schemas = ((document.components as Json | undefined)?.schemas ?? {}) as Json;
  const { components: _components, ...rest } = document;
  const used = new Set<string>();
  const pending = [JSON.stringify(rest)];
  while (pending.length) {
    const text = pending.pop() as string;
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      if (!name || used.has(name) || !(name in schemas)) continue;
      used.add(name);
      pending.push(JSON.stringify(schemas[name]));
    }
  }
  for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name];
}

/**
 * Named schemas come out as `$ref: #/$defs/Name`, which inside an OpenAPI document points at
 * the document root; body schemas are small and not recursive, so they are inlined instead.
 */
function inlineDefs(schema: Json): Json {
  const defs = (schema.$defs ?? {}) as Json;
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (!node || typeof node !== 'object') return node;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/$defs/'))
      return resolve(defs[ref.slice('#/$defs/'.length)]);
    return Object.fromEntries(
      Object.entries(node as Json)
        .filter(([key]) => key !== '$defs')
        .map(([key, value]) => [key, resolve(value)]),
    );
  };
  return resolve(schema) as Json;
}
