import fc from 'fast-check';

/**
 * fast-check arbitraries from the JSON Schema subset the app's OpenAPI document uses (type,
 * enum, const, properties/required, additionalProperties/propertyNames, items, anyOf/oneOf,
 * $ref, min/max, pattern, format date and date-time), plus mutations of what they generate.
 * Small on purpose: no library kept up with JSON Schema 2020-12 and fast-check 4 both.
 */
export type Schema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  propertyNames?: Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  $ref?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
};

export interface SchemaContext {
  /** `components.schemas` of the document, for `$ref`. */
  components: Record<string, Schema>;
  /** A property's own values (real ids for `*_id`, say), mixed in with the generated ones. */
  hint?: (name: string) => fc.Arbitrary<unknown> | undefined;
}

const small = 4; // longest generated array or dictionary: enough to meet limits, cheap to send

function resolve(schema: Schema, ctx: SchemaContext): Schema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  const target = ctx.components[name];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return resolve(target, ctx);
}

function patterned(pattern: string, minLength: number, maxLength: number) {
  const re = new RegExp(pattern, 'u');
  try {
    return fc.stringMatching(re).filter((s) => s.length >= minLength && s.length <= maxLength);
  } catch {
    // Unicode property classes (\p{Cc}) are beyond stringMatching: plain strings that pass.
    return fc.string({ minLength, maxLength: Math.min(maxLength, 24) }).filter((s) => re.test(s));
  }
}

function stringArb(s: Schema): fc.Arbitrary<string> {
  if (s.format === 'date-time' || s.format === 'date') {
    const dates = fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString());
    return s.format === 'date' ? dates.map((d) => d.slice(0, 10)) : dates;
  }
  const minLength = s.minLength ?? 0;
  const maxLength = s.maxLength ?? 40;
  if (s.pattern) return patterned(s.pattern, minLength, maxLength);
  return fc.string({ minLength, maxLength: Math.min(maxLength, Math.max(minLength, 24)) });
}

function numberArb(s: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum : -1e6);
  const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum : 1e6);
  const arb = integer
    ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  return arb.filter(
    (n) =>
      (s.exclusiveMinimum === undefined || n > s.exclusiveMinimum) &&
      (s.exclusiveMaximum === undefined || n < s.exclusiveMaximum),
  );
}

function objectArb(s: Schema, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  if (s.properties) {
    const model = Object.fromEntries(
      Object.entries(s.properties).map(([k, v]) => [k, fromSchema(v, ctx, k, depth + 1)]),
    );
    return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in model) });
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const keys = s.propertyNames ? stringArb(s.propertyNames) : fc.string({ maxLength: 12 });
    return fc.dictionary(keys, fromSchema(s.additionalProperties, ctx, undefined, depth + 1), {
      maxKeys: small,
    });
  }
  return fc.constant({});
}

/** Values valid against the schema (as far as the subset goes). */
export function fromSchema(
  input: Schema,
  ctx: SchemaContext,
  name?: string,
  depth = 0,
): fc.Arbitrary<unknown> {
  const s = resolve(input, ctx);
  const own = name ? ctx.hint?.(name) : undefined;
  const generated = ((): fc.Arbitrary<unknown> => {
    if (depth > 8) return fc.constant(null);
    if (s.const !== undefined) return fc.constant(s.const);
    if (s.enum) return fc.constantFrom(...s.enum);
    const alternatives = s.anyOf ?? s.oneOf;
    if (alternatives) return fc.oneof(...alternatives.map((a) => fromSchema(a, ctx, name, depth)));
    if (Array.isArray(s.type))
      return fc.oneof(...s.type.map((type) => fromSchema({ ...s, type }, ctx, name, depth)));
    switch (s.type) {
      case 'string':
        return stringArb(s);
      case 'integer':
        return numberArb(s, true);
      case 'number':
        return numberArb(s, false);
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array':
        return fc.array(fromSchema(s.items ?? {}, ctx, name, depth + 1), {
          minLength: s.minItems ?? 0,
          maxLength: Math.min(s.maxItems ?? small, Math.max(s.minItems ?? 0, small)),
        });
      case 'object':
        return objectArb(s, ctx, depth);
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  })();
  return own
    ? fc.oneof({ arbitrary: own, weight: 2 }, { arbitrary: generated, weight: 1 })
    : generated;
}

// ---------------------------------------------------------------------------------------------
// Mutations: a generated value, then one thing done to it. Bodies are returned as JSON text so
// a nesting far deeper than JSON.stringify could walk is still sent.

export type Mutation =
  | 'none'
  | 'wrong-type'
  | 'drop-key'
  | 'extra-field'
  | 'huge-string'
  | 'deep-nesting'
  | 'nul'
  | 'edge-number';

type Path = (string | number)[];

function leafPaths(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(value)) for (const [i, v] of value.entries()) leafPaths(v, [...path, i], out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) leafPaths(v, [...path, k], out);
  return out;
}

function setAt(root: unknown, path: Path, replace: (old: unknown) => unknown): unknown {
  if (path.length === 0) return replace(root);
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  node[last] = replace(node[last]);
  return copy;
}

// A computed '__proto__' key is an own property, so JSON.stringify sends it.
const extraKeys = ['__proto__', 'constructor', 'extra', ''];
const deepMarker = '\u0001deep\u0001';
const wrongTypes: unknown[] = [null, true, 0, -1, 'text', [], {}, [1, 'a'], { a: {} }];
export const edgeNumbers = [
  0,
  -0,
  -1,
  0.5,
  2 ** 31,
  -(2 ** 31) - 1,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  1e308,
  -1e308,
  5e-324,
];

export interface MutatedBody {
  mutation: Mutation;
  /** JSON text to send. */
  json: string;
}

/** A generated value with one mutation applied at a chosen place. */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<MutatedBody> {
  const kind = fc.constantFrom<Mutation>(
    'none',
    'none',
    'wrong-type',
    'drop-key',
    'extra-field',
    'huge-string',
    'deep-nesting',
    'nul',
    'edge-number',
  );
  return fc
    .tuple(valid, kind, fc.nat(), fc.nat(), fc.constantFrom(50, 700, 20_000))
    .map(([value, mutation, at, pick, depth]) => {
      const paths = leafPaths(value);
      const path = paths[at % paths.length]!;
      let out: unknown = value;
      switch (mutation) {
        case 'wrong-type':
          out = setAt(value, path, () => wrongTypes[pick % wrongTypes.length]);
          break;
        case 'drop-key': {
          const keyed = paths.filter((p) => typeof p.at(-1) === 'string');
          if (keyed.length) {
            const p = keyed[pick % keyed.length]!;
            out = setAt(value, p.slice(0, -1), (parent) => {
              const { [p.at(-1) as string]: _, ...rest } = parent as Record<string, unknown>;
              return rest;
            });
          }
          break;
        }
        case 'extra-field':
          out = setAt(value, path, (old) =>
            old && typeof old === 'object' && !Array.isArray(old)
              ? { ...old, [extraKeys[pick % extraKeys.length]!]: 'x' }
              : old,
          );
          break;
        case 'huge-string':
          // Under the 1 MiB JSON limit, and over it.
          out = setAt(value, path, () => 'x'.repeat([5_000, 200_000, 1_100_000][pick % 3]!));
          break;
        case 'deep-nesting':
          out = setAt(value, path, () => deepMarker);
          break;
        case 'nul':
          out = setAt(value, path, (old) =>
            typeof old === 'string' ? `${old}\u0000` : { 'k\u0000': '\u0000' },
          );
          break;
        case 'edge-number':
          out = setAt(value, path, () => edgeNumbers[pick % edgeNumbers.length]);
          break;
      }
      let json = JSON.stringify(out) ?? 'null';
      if (mutation === 'deep-nesting') {
        const open = pick % 2 ? '{"a":' : '[';
        const close = pick % 2 ? '}' : ']';
        json = json.replace(
          JSON.stringify(deepMarker),
          `${open.repeat(depth)}1${close.repeat(depth)}`,
        );
      }
      return { mutation, json };
    });
}
