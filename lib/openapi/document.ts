/**
 * The OpenAPI 3.1 document of dream-api, generated from the zod schemas the handlers validate
 * with (zod 4's `z.toJSONSchema`) and the docs of the route files the manifest lists (`routes.ts`
 * reads them). Served at `GET /openapi.json` and rendered as `/docs`.
 */
import { z } from "zod";
import { ERROR_STATUS, errorBody, type ErrorCode } from "../errors.ts";
import {
  PreviewTiersBodySchema,
  ReportPeriodSchema,
  TierPreviewResponseSchema,
  UsageReportSchema,
} from "../schemas/analytics.ts";
import * as billingSchemas from "../schemas/billing.ts";
import * as dashboardSchemas from "../schemas/dashboard.ts";
import * as responseSchemas from "../schemas/responses.ts";
import * as tenantSchemas from "../schemas/tenant.ts";
import { TierIdSchema, TierSchema } from "../schemas/tiers.ts";
import { ERROR_DOCS } from "./errors.ts";
import { ROUTES } from "./routes.ts";
import {
  type RequestHeader,
  type ResponseDoc,
  type ResponseHeader,
  type RouteDoc,
  TAGS,
} from "./types.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

export const OPENAPI_VERSION = "3.1.0";
/** The API's version: bump on any change a client could notice. */
export const API_VERSION = "1.0.0";

const SCHEMA_REF = (id: string) => `#/components/schemas/${id}`;

/** Request-side modules whose exported object schemas become named components. */
const REQUEST_MODULES: Record<string, unknown>[] = [
  tenantSchemas,
  billingSchemas,
  dashboardSchemas,
  { TierSchema, PreviewTiersBodySchema },
];

/** Response-side schemas that become named components (others are named after their operation). */
const RESPONSE_MODULES: Record<string, unknown>[] = [responseSchemas, {
  TierSchema,
  ReportPeriodSchema,
  UsageReportSchema,
  TierPreviewResponseSchema,
}];

/** `FooSchema` exports → `Foo`; only zod schemas. */
function namedSchemas(modules: Record<string, unknown>[], onlyObjects: boolean) {
  const names = new Map<z.ZodType, string>();
  for (const module of modules) {
    for (const [exportName, value] of Object.entries(module)) {
      if (!(value instanceof z.ZodType) || !exportName.endsWith("Schema")) continue;
      if (onlyObjects && !(value instanceof z.ZodObject)) continue;
      names.set(value, exportName.slice(0, -"Schema".length));
    }
  }
  return names;
}

/** A bare `z.string()` (a CSV or text body) is inlined, not made a component. */
function isPlainString(schema: z.ZodType): boolean {
  return schema instanceof z.ZodString;
}

/** `post /dashboard/api/stripe/sync` → `postDashboardApiStripeSync`. */
export function operationId(route: Pick<RouteDoc, "method" | "path">): string {
  const words = route.path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return route.method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
}

/** Hono's `:param` → OpenAPI's `{param}`. */
export function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

/** JSON Schema for the whole registry, with refs into `components.schemas`. */
function registrySchemas(
  entries: Map<z.ZodType, string>,
  io: "input" | "output",
): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [schema, id] of entries) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
    uri: SCHEMA_REF,
  });
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, clean(s)]));
}

const TIER_EXAMPLE = { id: "pro", name: "Pro", price: 29, limit: 10000, period: "month" };

/**
 * Descriptions and examples for schemas whose modules carry none (their fields are documented
 * in comments there), applied to the generated JSON Schema by component name.
 */
const NOTES: Record<
  string,
  { description?: string; examples?: unknown[]; properties?: Record<string, string> }
> = {
  Tier: {
    description: "A pricing tier. The first tier with price 0 is the default.",
    examples: [{ ...TIER_EXAMPLE, stripePriceId: "price_1Nv0FGQ9RKHgCVdK" }],
    properties: {
      id: "A slug, unique among the tiers: what `X-User-Plan` names.",
      name: "Shown to people.",
      price: "Per period, in the currency's major unit (29 = $29); 0 for a free tier.",
      limit: "Units per period; null for unlimited.",
      period: "`month` (calendar month, UTC) or `day` (UTC day).",
      stripePriceId:
        "The tier's price in your Stripe account, set by `POST /dashboard/api/stripe/sync`.",
    },
  },
  TierInput: { examples: [TIER_EXAMPLE] },
};

function annotate(schemas: Record<string, Json>): Record<string, Json> {
  for (const [name, notes] of Object.entries(NOTES)) {
    const schema = schemas[name];
    if (!schema) continue;
    if (notes.description) schema.description ??= notes.description;
    if (notes.examples) schema.examples ??= notes.examples;
    for (const [property, description] of Object.entries(notes.properties ?? {})) {
      if (schema.properties?.[property]) schema.properties[property].description ??= description;
    }
  }
  // The input Tier reads like the output one.
  if (schemas.Tier && schemas.TierInput) {
    for (
      const [property, value] of Object.entries(schemas.Tier.properties ?? {}) as [string, Json][]
    ) {
      const input = schemas.TierInput.properties?.[property];
      if (input && value.description) input.description ??= value.description;
    }
  }
  return schemas;
}

/** A standalone schema (headers, query parameters) without the `$schema` marker. */
function standalone(schema: z.ZodType, io: "input" | "output" = "input"): Json {
  return clean(z.toJSONSchema(schema, { target: "draft-2020-12", io, unrepresentable: "any" }));
}

function clean(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

const REQUEST_HEADERS: Record<
  RequestHeader,
  { schema: z.ZodType; description: string; example: string }
> = {
  "X-User-Id": {
    schema: tenantSchemas.UserIdSchema,
    description:
      "Your end-user's id in your own system: 1–256 characters (bytes as sent), none of them a control character (C0, DEL, C1 U+0080–U+009F), a format character (Unicode Cf: U+200B, U+202E, U+FEFF …), U+2028/U+2029 or a lone surrogate; UTF-8 is judged by the characters it encodes. Anything else is refused with 400, never rewritten. Usage is counted per platform and end-user.",
    example: "user_123",
  },
  "X-User-Plan": {
    schema: TierIdSchema,
    description:
      "A tier id to count under when the end-user has no active subscription recorded from Stripe; unknown ids are refused with 400 naming the valid ones. Without it: the default (first free) tier.",
    example: "pro",
  },
  "Idempotency-Key": {
    schema: tenantSchemas.IdempotencyKeySchema,
    description:
      "Makes the call safe to retry: a repeat within 24 h with the same key, platform, end-user and body returns the first answer again and counts nothing; the same key with another body (another `amount`) is 409 `conflict`. 1–255 characters, under the same character rules as X-User-Id.",
    example: "8e0f6f8c-54b1-4d7e-9a57-2f3c1c7f0b1e",
  },
};

const RESPONSE_HEADERS: Record<
  ResponseHeader,
  { description: string; schema: Json; example: Json }
> = {
  "RateLimit-Limit": {
    description: "The plan's limit this period (absent for unlimited plans).",
    schema: { type: "integer", minimum: 0 },
    example: 100,
  },
  "RateLimit-Remaining": {
    description: "Units left this period (absent for unlimited plans).",
    schema: { type: "integer", minimum: 0 },
    example: 55,
  },
  "RateLimit-Reset": {
    description: "Seconds until the period ends and usage starts again from 0.",
    schema: { type: "integer", minimum: 1 },
    example: 1339200,
  },
  "Retry-After": {
    description:
      "On 429: seconds until the period ends; on 503: seconds to wait before retrying (RFC 9110 §10.2.3).",
    schema: { type: "integer", minimum: 1 },
    example: 1339200,
  },
  "Idempotent-Replayed": {
    description:
      "`true` when this is the stored answer to an earlier call with the same Idempotency-Key.",
    schema: { type: "string", enum: ["true"] },
    example: "true",
  },
};

const SECURITY: Record<RouteDoc["auth"], Json[]> = {
  apiKey: [{ apiKey: [] }],
  session: [{ founderBearer: [] }, { founderCookie: [] }],
  none: [],
};

/** The codes a route can answer with, beyond its explicit responses. */
export function errorCodesOf(route: RouteDoc): ErrorCode[] {
  const codes: ErrorCode[] = [];
  if (route.auth !== "none") codes.push("unauthorized");
  if (route.auth === "session" && route.method !== "get") codes.push("forbidden");
  // Every route that takes a body is mounted behind `limitBody()` (16 KiB).
  if (route.method !== "get") codes.push("payload_too_large");
  codes.push(...(route.errors ?? []), "internal");
  return [...new Set(codes)].filter((code) => route.responses[ERROR_STATUS[code]] === undefined);
}

function errorResponses(codes: ErrorCode[]): Record<string, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].sort(([a], [b]) => a - b).map(([status, group]) => [String(status), {
      description: group.map((code) => `\`${code}\`: ${ERROR_DOCS[code].meaning}`).join(" "),
      content: {
        "application/json": {
          schema: { $ref: SCHEMA_REF("ErrorEnvelope") },
          examples: Object.fromEntries(group.map((code) => [code, {
            summary: code,
            value: errorBody(code, ERROR_DOCS[code].example, undefined, "k3x9q2m7ab-1f"),
          }])),
        },
      },
    }]),
  );
}

interface Names {
  input: Map<z.ZodType, string>;
  output: Map<z.ZodType, string>;
}

function responseObject(doc: ResponseDoc, names: Names): Json {
  const out: Json = { description: doc.description };
  if (doc.headers?.length) {
    out.headers = Object.fromEntries(
      doc.headers.map((h) => [h, { $ref: `#/components/headers/${h}` }]),
    );
  }
  if (doc.schema) {
    const name = names.output.get(doc.schema);
    out.content = {
      [doc.contentType ?? "application/json"]: {
        schema: name ? { $ref: SCHEMA_REF(name) } : standalone(doc.schema, "output"),
      },
    };
  }
  return out;
}

function operation(route: RouteDoc, names: Names): Json {
  const op: Json = {
    operationId: operationId(route),
    tags: [route.tag],
    summary: route.summary,
    security: SECURITY[route.auth],
  };
  if (route.description) op.description = route.description;
  const parameters: Json[] = (route.headers ?? []).map((h) => ({
    $ref: `#/components/parameters/${h}`,
  }));
  if (route.query) {
    const schema = standalone(route.query);
    for (const [name, property] of Object.entries(schema.properties ?? {}) as [string, Json][]) {
      const { description, ...propertySchema } = property;
      parameters.push({
        name,
        in: "query",
        required: (schema.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: propertySchema,
      });
    }
  }
  if (parameters.length) op.parameters = parameters;
  if (route.body) {
    const name = names.input.get(route.body)!;
    const required = route.bodyRequired ?? (standalone(route.body).required ?? []).length > 0;
    op.requestBody = {
      required,
      content: {
        "application/json": {
          schema: { $ref: SCHEMA_REF(name) },
          ...(route.example === undefined ? {} : { example: route.example }),
        },
      },
    };
  }
  op.responses = {
    ...Object.fromEntries(
      Object.entries(route.responses).map(([status, doc]) => [status, responseObject(doc!, names)]),
    ),
    ...errorResponses(errorCodesOf(route)),
  };
  return op;
}

/** Builds the document for the given routes (default: every registered route). */
export function buildOpenApi(
  options: { publicUrl: string; routes?: RouteDoc[] },
): Json {
  const routes = options.routes ?? ROUTES;

  // Named components: exported `FooSchema`s of the schema modules, plus each route's body and
  // response schema that is not exported (named after its operation).
  const output = namedSchemas(RESPONSE_MODULES, false);
  const input = new Map<z.ZodType, string>();
  for (const [schema, name] of namedSchemas(REQUEST_MODULES, true)) {
    input.set(schema, output.has(schema) ? `${name}Input` : name);
  }
  for (const route of routes) {
    // `postDashboardApiKeys` → `PostDashboardApiKeysBody`, `…Response` (`…Response404` for errors).
    const base = operationId(route).replace(/^./, (c) => c.toUpperCase());
    if (route.body && !input.has(route.body)) input.set(route.body, `${base}Body`);
    for (const [status, doc] of Object.entries(route.responses)) {
      if (doc?.schema && !output.has(doc.schema) && !isPlainString(doc.schema)) {
        output.set(doc.schema, `${base}Response${Number(status) < 300 ? "" : status}`);
      }
    }
  }
  const names = { input, output };

  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route, names);
  }

  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "dream-api",
      version: API_VERSION,
      summary: "Usage limits and billing for SaaS products in one API call.",
      description:
        'Your backend calls `POST /api/data` for each billable action of one of your end-users; dream-api counts it exactly against the end-user\'s plan and answers the usage, or 429 when the limit is reached. End-users upgrade through Checkout in your own Stripe account, and their limits follow at once.\n\nEvery error is `{"success":false,"error":{"code","message"}}`; the code decides the HTTP status.',
    },
    servers: [{ url: options.publicUrl, description: "This dream-api server" }],
    // Every error code with its status and meaning, for readers and generators alike.
    "x-error-codes": (Object.keys(ERROR_STATUS) as ErrorCode[]).map((code) => ({
      code,
      status: ERROR_STATUS[code],
      meaning: ERROR_DOCS[code].meaning,
      example: ERROR_DOCS[code].example,
    })),
    tags: TAGS.map((t) => ({ ...t })),
    paths,
    components: {
      schemas: annotate({
        ...registrySchemas(output, "output"),
        ...registrySchemas(input, "input"),
      }),
      parameters: Object.fromEntries(
        Object.entries(REQUEST_HEADERS).map(([name, h]) => [name, {
          name,
          in: "header",
          required: name === "X-User-Id",
          description: h.description,
          schema: standalone(h.schema),
          example: h.example,
        }]),
      ),
      headers: Object.fromEntries(
        Object.entries(RESPONSE_HEADERS).map(([name, h]) => [name, {
          description: h.description,
          schema: h.schema,
          example: h.example,
        }]),
      ),
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "dk_live_… or dk_test_…",
          description:
            "Your platform's secret API key from the dashboard: `Authorization: Bearer dk_live_…`. Keep it on your server.",
        },
        founderBearer: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description:
            "A founder's Clerk session token (RS256 JWT), for scripts calling the dashboard API.",
        },
        founderCookie: {
          type: "apiKey",
          in: "cookie",
          name: "__session",
          description:
            "The dashboard's session cookie. Changes (POST/PUT) made with it must come from dream-api's own origin (CSRF check).",
        },
      },
    },
  };
}

const cache = new Map<string, { doc: Json; json: string }>();

function cached(publicUrl: string) {
  let entry = cache.get(publicUrl);
  if (!entry) {
    const doc = buildOpenApi({ publicUrl });
    entry = { doc, json: JSON.stringify(doc) };
    cache.set(publicUrl, entry);
  }
  return entry;
}

/** The document for `publicUrl`, built once per process (it depends on nothing else). */
export function openApiDocument(publicUrl: string): Json {
  return structuredClone(cached(publicUrl).doc);
}

/** The document as JSON text, serialized once per process. */
export function openApiJson(publicUrl: string): string {
  return cached(publicUrl).json;
}
