import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];
type ContentBody = { content: Record<string, { schema: z.ZodType }> };

function isContentBody(body: unknown): body is ContentBody {
  return typeof body === 'object' && body !== null && 'content' in body;
}

/**
 * jsonSchemaTransform handles a body given as one zod schema; routes that take JSON, CSV and
 * multipart declare one schema per content type, which this converts alongside.
 */
export function openapiTransform(input: TransformInput) {
  const body = (input.schema as { body?: unknown } | undefined)?.body;
  if (!isContentBody(body)) return jsonSchemaTransform(input);
  const { body: _omitted, ...rest } = input.schema as Record<string, unknown>;
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

/**
 * Named schemas come out as `$ref: #/$defs/Name`, which inside an OpenAPI document points at
 * the document root; body schemas are small and not recursive, so they are inlined instead.
 */
function inlineDefs(schema: Record<string, unknown>): Record<string, unknown> {
  const defs = (schema.$defs ?? {}) as Record<string, unknown>;
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (!node || typeof node !== 'object') return node;
    const ref = (node as { $ref?: unknown }).$ref;
    if (typeof ref === 'string' && ref.startsWith('#/$defs/'))
      return resolve(defs[ref.slice('#/$defs/'.length)]);
    return Object.fromEntries(
      Object.entries(node as Record<string, unknown>)
        .filter(([key]) => key !== '$defs')
        .map(([key, value]) => [key, resolve(value)]),
    );
  };
  return resolve(schema) as Record<string, unknown>;
}
