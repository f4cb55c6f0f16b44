// fast-check arbitraries from the JSON Schemas of our OpenAPI document: values that satisfy a
// schema (so a sweep reaches past validation into the handlers), and values one step off it
// (a required field gone, one field of the wrong type or out of range).
import { junkValue } from "@portal/router/testing/junk";
import fc from "fast-check";

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  nullable?: boolean;
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
  default?: unknown;
}

type Resolve = (ref: string) => JsonSchema;

/** A `$ref` resolver over a document's `components.schemas`. */
export function resolverOf(doc: { components?: { schemas?: Record<string, JsonSchema> } }) {
  return (ref: string): JsonSchema => {
    const name = ref.replace("#/components/schemas/", "");
    return doc.components?.schemas?.[name] ?? {};
  };
}

const junk = junkValue();

/** Values that satisfy `schema` (as far as these keywords describe it). */
export function valid(schema: JsonSchema, resolve: Resolve, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref) return valid(resolve(schema.$ref), resolve, depth);
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((s) => valid(s, resolve, depth + 1)));
  if (schema.allOf?.length) return valid(Object.assign({}, ...schema.allOf), resolve, depth);
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const nullable = schema.nullable || types.includes("null");
  const type = types.find((t) => t !== "null") ?? (schema.properties ? "object" : undefined);
  const base = ofType(type, schema, resolve, depth);
  return nullable ? fc.oneof(base, fc.constant(null)) : base;
}

function ofType(
  type: string | undefined,
  s: JsonSchema,
  resolve: Resolve,
  depth: number,
): fc.Arbitrary<unknown> {
  switch (type) {
    case "string":
      return stringOf(s);
    case "integer": {
      const min = s.minimum ?? (s.exclusiveMinimum ?? -1_000_001) + 1;
      const max = Math.min(s.maximum ?? (s.exclusiveMaximum ?? 1_000_001) - 1, 2 ** 53 - 1);
      return fc.oneof(
        fc.integer({ min, max: Math.min(max, 2 ** 31 - 1) }),
        fc.constantFrom(min, max),
      );
    }
    case "number":
      return fc.double({
        min: s.minimum ?? -1e6,
        max: s.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case "boolean":
      return fc.boolean();
    case "array":
      if (depth > 3) return fc.constant([]);
      return fc.array(s.items ? valid(s.items, resolve, depth + 1) : junk, {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 3, 3),
      });
    case "object": {
      if (depth > 3 || !s.properties) return fc.constant({});
      const shape = Object.fromEntries(
        Object.entries(s.properties).map(([k, v]) => [k, valid(v, resolve, depth + 1)]),
      );
      return fc.record(shape, { requiredKeys: s.required ?? [] });
    }
    default:
      return junk;
  }
}

function stringOf(s: JsonSchema): fc.Arbitrary<string> {
  const minLength = s.minLength ?? 0;
  const maxLength = Math.min(s.maxLength ?? 40, 60);
  if (s.pattern) {
    return fc
      .stringMatching(new RegExp(s.pattern))
      .filter((v) => v.length >= minLength && v.length <= (s.maxLength ?? Infinity));
  }
  switch (s.format) {
    case "email":
      return fc.emailAddress();
    case "uri":
    case "url":
      return fc.webUrl();
    case "date-time":
      return fc
        .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
        .map((d) => d.toISOString());
    default:
      return fc.string({ minLength, maxLength: Math.max(minLength, maxLength) });
  }
}

/** One step off `schema`: a valid object with one required field gone or one field replaced. */
export function nearlyValid(schema: JsonSchema, resolve: Resolve): fc.Arbitrary<unknown> {
  const s = schema.$ref ? resolve(schema.$ref) : schema;
  const keys = Object.keys(s.properties ?? {});
  if (keys.length === 0) return junk;
  return fc
    .tuple(valid(s, resolve), fc.constantFrom(...keys), junk, fc.boolean())
    .map(([v, key, bad, drop]) => {
      const out = { ...(v as Record<string, unknown>) };
      if (drop) delete out[key];
      else out[key] = bad;
      return out;
    });
}
