/**
 * Reading the OpenAPI document for people: JSON Schemas flattened into field tables, example
 * values, and curl commands. `/docs` renders only what these derive from the document.
 */

// deno-lint-ignore no-explicit-any
type Json = any;

/** A JSON Schema with its `$ref` (into `components.schemas`) followed. */
export function resolve(doc: Json, schema: Json): Json {
  let current = schema;
  for (let hops = 0; current?.$ref && hops < 20; hops++) {
    current = doc.components.schemas[refName(current.$ref)];
  }
  return current ?? {};
}

/** `#/components/schemas/Tier` → `Tier`. */
export function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf("/") + 1);
}

/** A short type label: `integer`, `string (date-time)`, `Tier[]`, `"free" | "pro"`, `integer | null`. */
export function typeLabel(doc: Json, schema: Json): string {
  if (!schema) return "any";
  if (schema.$ref) {
    const target = resolve(doc, schema);
    // Short enums read best spelled out; long ones (ErrorCode) by name, explained elsewhere.
    if (target.enum) return target.enum.length <= 4 ? typeLabel(doc, target) : refName(schema.$ref);
    return target.type === "object" ? refName(schema.$ref) : typeLabel(doc, target);
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((v: unknown) => JSON.stringify(v)).join(" | ");
  if (schema.anyOf || schema.oneOf) {
    return (schema.anyOf ?? schema.oneOf).map((s: Json) => typeLabel(doc, s)).join(" | ");
  }
  if (schema.type === "array") return `${typeLabel(doc, schema.items)}[]`;
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  if (schema.type === "string" && schema.format) return `string (${schema.format})`;
  return schema.type ?? "any";
}

/** Constraints worth telling a reader: ranges, lengths, patterns, defaults. */
export function constraints(schema: Json): string[] {
  const out: string[] = [];
  const s = { ...(schema.anyOf?.find((x: Json) => x.type !== "null") ?? schema) };
  // Bounds that only say "a JavaScript-safe integer" tell a reader nothing.
  if (s.maximum >= Number.MAX_SAFE_INTEGER) delete s.maximum;
  if (s.minimum <= Number.MIN_SAFE_INTEGER) delete s.minimum;
  if (s.minimum !== undefined && s.maximum !== undefined) {
    out.push(`${s.minimum}–${s.maximum.toLocaleString("en-US")}`);
  } else if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  else if (s.maximum !== undefined) out.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined && s.maxLength !== undefined) {
    out.push(`${s.minLength}–${s.maxLength} characters`);
  } else if (s.maxLength !== undefined) out.push(`at most ${s.maxLength} characters`);
  if (s.minItems !== undefined || s.maxItems !== undefined) {
    out.push(`${s.minItems ?? 0}–${s.maxItems ?? "∞"} items`);
  }
  if (s.pattern && !s.format) out.push(`pattern ${s.pattern}`); // a format says it better
  if (schema.default !== undefined) out.push(`default ${JSON.stringify(schema.default)}`);
  return out;
}

export interface Field {
  /** Dotted path: `usage.count`, `tiers[].id`. */
  name: string;
  type: string;
  required: boolean;
  constraints: string[];
  description?: string;
}

/**
 * The fields of an object schema, nested objects and arrays of objects flattened into dotted
 * names, so one table shows a whole body.
 */
export function fields(doc: Json, schema: Json, prefix = "", depth = 0): Field[] {
  const object = resolve(doc, schema);
  if (object.type !== "object" || !object.properties) return [];
  const required = new Set<string>(object.required ?? []);
  const out: Field[] = [];
  for (const [key, property] of Object.entries(object.properties) as [string, Json][]) {
    const name = `${prefix}${key}`;
    const nullable = property.anyOf?.find((s: Json) => s.type !== "null");
    const target = resolve(doc, nullable ?? property);
    out.push({
      name,
      type: typeLabel(doc, property),
      required: required.has(key),
      constraints: constraints(property.$ref ? target : property),
      description: property.description ?? (property.$ref ? target.description : undefined),
    });
    if (depth >= 3) continue;
    if (target.type === "object") out.push(...fields(doc, target, `${name}.`, depth + 1));
    if (target.type === "array") {
      out.push(...fields(doc, target.items, `${name}[].`, depth + 1));
    }
  }
  return out;
}

/** An example value: the schema's own `examples`/`example`, else one made from its type. */
export function exampleOf(doc: Json, schema: Json, depth = 0): unknown {
  if (!schema || depth > 8) return null;
  if (schema.examples?.length) return schema.examples[0];
  if (schema.example !== undefined) return schema.example;
  if (schema.$ref) return exampleOf(doc, resolve(doc, schema), depth + 1);
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  const options = schema.anyOf ?? schema.oneOf;
  if (options) {
    return exampleOf(doc, options.find((s: Json) => s.type !== "null") ?? options[0], depth + 1);
  }
  switch (schema.type) {
    case "object":
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map((
          [k, v],
        ) => [k, exampleOf(doc, v, depth + 1)]),
      );
    case "array":
      return [exampleOf(doc, schema.items, depth + 1)];
    case "integer":
    case "number":
      return schema.minimum ?? 0;
    case "boolean":
      return true;
    case "null":
      return null;
    case "string":
      if (schema.format === "date-time") return "2026-11-01T00:00:00.000Z";
      if (schema.format === "uri") return "https://example.com/";
      if (schema.format === "email") return "ada@example.com";
      return "string";
    default:
      return null;
  }
}

export interface Operation {
  method: string;
  path: string;
  // deno-lint-ignore no-explicit-any
  op: any;
}

/** Every operation, grouped by its first tag, in the document's tag order. */
export function operationsByTag(doc: Json): { tag: Json; operations: Operation[] }[] {
  const all: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths) as [string, Json][]) {
    for (const [method, op] of Object.entries(item)) all.push({ method, path, op });
  }
  return (doc.tags ?? []).map((tag: Json) => ({
    tag,
    operations: all.filter((o) => o.op.tags?.[0] === tag.name),
  })).filter((g: { operations: Operation[] }) => g.operations.length > 0);
}

/** The parameters of an operation with their `$ref`s followed. */
export function parametersOf(doc: Json, op: Json): Json[] {
  return (op.parameters ?? []).map((p: Json) =>
    p.$ref ? doc.components.parameters[refName(p.$ref)] : p
  );
}

/** The JSON body schema of a request or response, if any. */
export function jsonSchemaOf(content: Json): Json | undefined {
  return content?.["application/json"]?.schema;
}

/**
 * A curl command for an operation, with the given credential and the document's example values.
 * @example curlFor(doc, "/api/data", "post", { baseUrl, token: "dk_live_…" })
 */
export function curlFor(
  doc: Json,
  path: string,
  method: string,
  options: { baseUrl: string; token: string; userId?: string },
): string {
  const op = doc.paths[path][method];
  const lines = [
    `curl${method === "get" ? "" : ` -X ${method.toUpperCase()}`} ${options.baseUrl}${path}`,
  ];
  lines.push(`-H "Authorization: Bearer ${options.token}"`);
  for (const p of parametersOf(doc, op)) {
    if (p.in === "header" && p.required) {
      lines.push(
        `-H "${p.name}: ${p.name === "X-User-Id" ? options.userId ?? p.example : p.example}"`,
      );
    }
  }
  const media = op.requestBody?.content?.["application/json"];
  if (media) {
    lines.push(`-H "Content-Type: application/json"`);
    const example = media.example ?? exampleOf(doc, media.schema);
    lines.push(`-d '${JSON.stringify(example)}'`);
  }
  return lines.join(" \\\n  ");
}
