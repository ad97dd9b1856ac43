// How responses with a schema are written. In tests and development every response is checked
// against its route's zod schema as it is written (fastify-type-provider-zod), so a response that
// breaks its contract fails loudly. In production the same schemas, turned into JSON Schema
// once per route, drive fast-json-stringify: a compiled serialiser per response shape that only
// writes the declared fields, without checking each value again on every request.
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import fastJson from 'fast-json-stringify';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

function zodSchemaOf(schema: unknown): z.ZodType {
  if (schema instanceof z.ZodType) return schema;
  const properties = (schema as { properties?: unknown } | null)?.properties;
  if (properties instanceof z.ZodType) return properties;
  throw new TypeError('a response schema that is not a zod schema');
}

type JsonSchema = { [key: string]: unknown };

/** Keywords that only check a value: a serialiser that already trusts it has no use for them. */
const CHECK_ONLY = new Set(['format', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'examples', 'description']);

/**
 * The schema as a serialiser needs it: without check-only keywords, and with `anyOf [X, null]`
 * made `X` with type `[X.type, "null"]` (fast-json-stringify resolves anyOf by validating each
 * branch with ajv on every value).
 */
export function forSerialization(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forSerialization);
  if (typeof schema !== 'object' || schema === null) return schema;
  const result: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!CHECK_ONLY.has(key)) result[key] = key === 'properties' || key === 'definitions' ? mapValues(value, forSerialization) : forSerialization(value);
  }
  const anyOf = result.anyOf;
  if (Array.isArray(anyOf) && anyOf.length === 2) {
    const [a, b] = anyOf as JsonSchema[];
    const [other, nullBranch] = b?.type === 'null' ? [a, b] : a?.type === 'null' ? [b, a] : [undefined, undefined];
    if (other && nullBranch && typeof other.type === 'string' && other.$ref === undefined) {
      delete result.anyOf;
      return { ...result, ...other, type: [other.type, 'null'] };
    }
  }
  return result;
}

function mapValues(value: unknown, map: (v: unknown) => unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, map(v)]));
}

/** fast-json-stringify from a route's zod response schema. */
export const compiledSerializerCompiler: FastifySerializerCompiler<unknown> = ({ schema }) => {
  const jsonSchema = z.toJSONSchema(zodSchemaOf(schema), { io: 'output', target: 'draft-7', unrepresentable: 'any' });
  return fastJson(forSerialization(jsonSchema) as Parameters<typeof fastJson>[0]) as (data: unknown) => string;
};

/** Checked in tests and development, compiled in production. */
export function responseSerializerCompiler(nodeEnv: 'development' | 'production' | 'test'): FastifySerializerCompiler<unknown> {
  return nodeEnv === 'production' ? compiledSerializerCompiler : (serializerCompiler as FastifySerializerCompiler<unknown>);
}
