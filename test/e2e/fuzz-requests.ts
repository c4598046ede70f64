import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  fromSchema,
  mutated,
  type Schema,
  type SchemaContext,
} from '../helpers/schema-arbitrary.ts';

/** Request arbitraries for one OpenAPI operation: generated, then mutated. */

export interface Operation {
  method: string;
  path: string;
  parameters?: { in: string; name: string; required?: boolean; style?: string; schema: Schema }[];
  requestBody?: { content: Record<string, { schema?: Schema }> };
}

export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** What was done to the body, for the failure message and the known-issue list. */
  mutation: string;
  payload?: string | Buffer;
}

/** Objects made in setup, by id prefix: the caller's own, and another tenant's. */
export interface KnownIds {
  own: Record<string, string[]>;
  other: string[];
}

const logo = readFileSync(new URL('../../examples/logos/acme.png', import.meta.url));
const matrixCsv = readFileSync(new URL('../../examples/matrix.csv', import.meta.url));

// The id prefix a path segment addresses: /v1/campaigns/{id} takes cmp_….
const prefixOfCollection: Record<string, string> = {
  campaigns: 'cmp',
  matrices: 'mtx',
  runs: 'run',
  variants: 'var',
  assets: 'ast',
  'webhook-endpoints': 'whe',
  events: 'evt',
  deliveries: 'dlv',
};
const prefixOfField: Record<string, string> = {
  campaign_id: 'cmp',
  matrix_id: 'mtx',
  run_id: 'run',
  variant_id: 'var',
  asset_id: 'ast',
  endpoint_id: 'whe',
  event_id: 'evt',
};

const percentJunk = ['%FF', '%00', '%', '%E0%A4%A', '..%2F..', '%2e%2e', 'cmp_%C0%AF', '%25%FF'];

function idArb(prefix: string | undefined, ids: KnownIds, clean = false) {
  const own = Object.values(ids.own).flat();
  const right = prefix ? (ids.own[prefix] ?? []) : [];
  if (clean && right.length) return fc.constantFrom(...right);
  return fc.oneof(
    { arbitrary: right.length ? fc.constantFrom(...right) : fc.constantFrom(...own), weight: 5 },
    { arbitrary: fc.constantFrom(...ids.other), weight: 1 },
    { arbitrary: fc.constantFrom(...own), weight: 1 },
    { arbitrary: fc.string({ maxLength: 30 }).map(encodeURIComponent), weight: 1 },
    { arbitrary: fc.constantFrom(...percentJunk), weight: 1 },
    // Longer than any id: the router's 100-character limit and beyond.
    {
      arbitrary: fc.integer({ min: 65, max: 400 }).map((n) => `${prefix ?? 'x'}_${'a'.repeat(n)}`),
      weight: 1,
    },
  );
}

function queryValueArb(
  schema: Schema,
  name: string,
  ctx: SchemaContext,
  ids: KnownIds,
  clean: boolean,
) {
  const field = prefixOfField[name];
  const valid = field
    ? idArb(field, ids, clean)
    : fromSchema(schema, ctx, name).map((v) =>
        typeof v === 'object' && v !== null ? v : encodeURIComponent(String(v)),
      );
  // A cursor is only ever one the api handed out: any other is a 400 before the route runs.
  if (clean) return name === 'cursor' ? fc.constant('') : valid;
  return fc.oneof(
    { arbitrary: valid, weight: 4 },
    { arbitrary: fc.string({ maxLength: 20 }).map(encodeURIComponent), weight: 1 },
    {
      arbitrary: fc.constantFrom('-1', '0', '1e309', '9007199254740993', 'NaN', '', '%00', '%FF'),
      weight: 1,
    },
    { arbitrary: fc.integer({ min: 200, max: 5000 }).map((n) => 'q'.repeat(n)), weight: 1 },
  );
}

/** `name=v`, or for a deepObject parameter (`levels[tone]=playful`) one pair per key. */
function encodeQueryParam(name: string, value: unknown, deep: boolean): string[] {
  if (deep && typeof value === 'object' && value !== null)
    return Object.entries(value).map(
      ([k, v]) =>
        `${encodeURIComponent(name)}[${encodeURIComponent(k)}]=${encodeURIComponent(String(v))}`,
    );
  return [
    `${encodeURIComponent(name)}=${typeof value === 'string' ? value : encodeURIComponent(JSON.stringify(value))}`,
  ];
}

function queryArb(op: Operation, ctx: SchemaContext, ids: KnownIds, clean: boolean) {
  const params = (op.parameters ?? []).filter((p) => p.in === 'query');
  const declared = params.map((p) =>
    fc
      .array(queryValueArb(p.schema, p.name, ctx, ids, clean), {
        minLength: p.required ? 1 : 0,
        maxLength: clean ? 1 : 2, // two values: the parser hands the route an array
      })
      .map((values) =>
        values
          .filter((v) => v !== '')
          .flatMap((v) => encodeQueryParam(p.name, v, p.style === 'deepObject')),
      ),
  );
  const extra = fc.array(
    fc.constantFrom(
      'levels[tone]=playful',
      'levels[]=x',
      'levels[a][b]=c',
      'levels=x',
      'x=1',
      '__proto__=1',
      '=',
      '&&',
    ),
    { maxLength: 2 },
  );
  return fc.tuple(fc.tuple(...declared), clean ? fc.constant([]) : extra).map(([d, e]) => {
    const parts = [...d.flat(), ...e];
    return parts.length ? `?${parts.join('&')}` : '';
  });
}

interface Body {
  contentType?: string;
  payload?: string | Buffer;
  mutation: string;
}

const csvCell = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    'tone',
    'setting',
    'dimension',
    'level',
    'variant_id',
    'date',
    'impressions',
    'clicks',
    '"',
    '""x"',
    ';',
    '\t',
    '\u0000',
    '\uFEFF',
    '=cmd()',
    '2026-01-01',
    '-1',
    '1e400',
  ),
);
const csvText = fc
  .tuple(
    fc.array(fc.array(csvCell, { minLength: 1, maxLength: 5 }), { maxLength: 6 }),
    fc.constantFrom(',', ';', '\t'),
  )
  .map(([rows, delimiter]) => rows.map((r) => r.join(delimiter)).join('\r\n'));
const csvBytes = fc.oneof(
  csvText.map((s) => Buffer.from(s)),
  fc.constant(matrixCsv),
  fc.constant(Buffer.from('tone,city\nplayful,Paris\nearnest;Rome\n')),
  fc.constant(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2c, 0x78, 0x0a])), // Windows-1252 café
  fc.constant(Buffer.from('\uFEFFtone,city\nplayful,Paris\n', 'utf16le')),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
);

function multipartArb() {
  const part = fc.record({
    field: fc.constantFrom('file', 'file', 'files', 'name', ''),
    filename: fc.option(
      fc.constantFrom('a.csv', 'm.xlsx', 'logo.png', 'x', 'x.exe', '../../etc/passwd'),
      { nil: undefined },
    ),
    type: fc.constantFrom(
      'text/csv',
      'image/png',
      'application/octet-stream',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    ),
    content: fc.oneof(
      csvBytes,
      fc.constant(logo),
      fc.constant(logo.subarray(0, 60)),
      fc.constant(Buffer.alloc(0)),
    ),
  });
  return fc
    .tuple(fc.array(part, { minLength: 0, maxLength: 3 }), fc.boolean())
    .map(([parts, truncated]): Body => {
      const boundary = 'fuzzboundary';
      const chunks: Buffer[] = [];
      for (const p of parts) {
        const disposition = `form-data; name="${p.field}"${p.filename ? `; filename="${p.filename}"` : ''}`;
        chunks.push(
          Buffer.from(
            `--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${p.type}\r\n\r\n`,
          ),
          p.content,
          Buffer.from('\r\n'),
        );
      }
      if (!truncated) chunks.push(Buffer.from(`--${boundary}--\r\n`));
      return {
        contentType: `multipart/form-data; boundary=${boundary}`,
        payload: Buffer.concat(chunks),
        mutation: `multipart ${parts.length} part(s)${truncated ? ', truncated' : ''}`,
      };
    });
}

// A JSON route sent what it does not take.
const wrongJson = fc.constantFrom<Body>(
  { contentType: 'text/plain', payload: '{"a":1}', mutation: 'text/plain' },
  { contentType: 'application/xml', payload: '<a/>', mutation: 'xml' },
  { contentType: 'application/json', payload: '{"a":', mutation: 'truncated json' },
  { contentType: 'application/json', payload: '', mutation: 'empty json' },
  { contentType: 'application/json', payload: 'null', mutation: 'json null' },
  { contentType: 'application/json', payload: '[]', mutation: 'json array' },
  { contentType: 'application/json', payload: '1e999', mutation: 'json 1e999' },
  { contentType: 'application/json', payload: '{"__proto__":{"x":1}}', mutation: 'proto' },
  { contentType: 'application/json; charset=utf-16', payload: '{}', mutation: 'utf-16 json' },
  { contentType: 'application/x-www-form-urlencoded', payload: 'a=1', mutation: 'form' },
  { contentType: undefined, payload: '{}', mutation: 'no content type' },
);

function bodyArb(
  op: Operation,
  ctx: SchemaContext,
  clean: boolean,
): fc.Arbitrary<Body | undefined> {
  const content = op.requestBody?.content;
  if (!content)
    return clean ? fc.constant(undefined) : fc.option(wrongJson, { nil: undefined, freq: 3 });
  const choices: fc.Arbitrary<Body>[] = [];
  const json = content['application/json']?.schema;
  if (json && clean)
    return fromSchema(json, ctx).map((v) => ({
      contentType: 'application/json',
      payload: JSON.stringify(v),
      mutation: 'none',
    }));
  if (json)
    choices.push(
      mutated(fromSchema(json, ctx)).map((b) => ({
        contentType: 'application/json',
        payload: b.json,
        mutation: b.mutation,
      })),
      mutated(fromSchema(json, ctx)).map((b) => ({
        contentType: 'application/json',
        payload: b.json,
        mutation: b.mutation,
      })),
    );
  if (content['text/csv'])
    choices.push(
      csvBytes.map((payload) => ({ contentType: 'text/csv', payload, mutation: 'csv' })),
    );
  if (content['multipart/form-data']) choices.push(multipartArb(), multipartArb());
  choices.push(wrongJson, multipartArb());
  return fc.oneof(...choices);
}

/** One in three requests is schema-valid throughout, so the routes' own code runs too. */
export function requestArb(
  op: Operation,
  ctx: SchemaContext,
  ids: KnownIds,
  auth: string,
): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { arbitrary: requestArbOf(op, ctx, ids, auth, true), weight: 1 },
    { arbitrary: requestArbOf(op, ctx, ids, auth, false), weight: 2 },
  );
}

function requestArbOf(
  op: Operation,
  ctx: SchemaContext,
  ids: KnownIds,
  auth: string,
  clean: boolean,
): fc.Arbitrary<FuzzRequest> {
  const segments = op.path.split('/');
  const pathArbs = segments.map((seg, i) => {
    const param = /^\{(\w+)\}$/.exec(seg)?.[1];
    if (!param) return fc.constant(seg);
    if (param === 'what' && clean) return fc.constantFrom('video', 'thumbnail');
    if (param === 'what') return fc.constantFrom('video', 'thumbnail', 'poster', '%FF', '');
    return idArb(prefixOfCollection[segments[i - 1] ?? ''], ids, clean);
  });
  const idempotency = fc.option(
    fc.oneof(
      fc.uuid(),
      fc.constant('fuzz-fixed-key'),
      fc.string({
        minLength: 1,
        maxLength: 300,
        unit: fc.constantFrom('a', 'Z', '-', '_', '9', ' '),
      }),
    ),
    { nil: undefined, freq: 4 },
  );
  return fc
    .tuple(
      fc.tuple(...pathArbs),
      queryArb(op, ctx, ids, clean),
      bodyArb(op, ctx, clean),
      clean ? fc.uuid() : idempotency,
    )
    .map(([path, query, body, key]) => {
      const headers: Record<string, string> = { authorization: auth };
      if (body?.contentType) headers['content-type'] = body.contentType;
      if (key !== undefined && op.method !== 'GET') headers['idempotency-key'] = key;
      return {
        method: op.method,
        url: path.join('/') + query,
        headers,
        mutation: body?.mutation ?? 'no body',
        ...(body?.payload !== undefined ? { payload: body.payload } : {}),
      };
    });
}
