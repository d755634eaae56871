/** The shape of one operation in the OpenAPI document (its facts live in its file under `routes/`). */
import type { z } from "zod";
import type { ErrorCode } from "../errors.ts";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/** Who may call: a tenant API key, a founder's session, or anyone. */
export type RouteAuth = "apiKey" | "session" | "none";

/** Request headers of the tenant API, documented once in `components.parameters`. */
export type RequestHeader = "X-User-Id" | "X-User-Plan" | "Idempotency-Key";

/** Response headers, documented once in `components.headers`. */
export type ResponseHeader =
  | "RateLimit-Limit"
  | "RateLimit-Remaining"
  | "RateLimit-Reset"
  | "Retry-After"
  | "Idempotent-Replayed";

/** Groups of operations, in the order `/docs` shows them. */
export const TAGS = [
  {
    name: "Tenant API",
    description:
      "Called by your backend for each billable action of one of your end-users. Authenticate with your secret API key.",
  },
  {
    name: "End-user billing",
    description:
      "Upgrade your end-users through Checkout and let them manage their subscription, in your own Stripe account.",
  },
  {
    name: "Founders' API",
    description:
      "The dashboard's JSON API: your subscription, platform, keys, tiers and Stripe connection. Authenticate with your dashboard session.",
  },
] as const;

export type Tag = (typeof TAGS)[number]["name"];

export interface ResponseDoc {
  description: string;
  /** The body schema (zod); omit for an empty body. */
  schema?: z.ZodType;
  /** Defaults to `application/json`. */
  contentType?: string;
  headers?: ResponseHeader[];
}

/**
 * One operation. `errors` lists the error codes it can answer with besides those added for it:
 * `unauthorized` (any auth), `forbidden` (session mutations, CSRF), `payload_too_large` (any
 * method but GET) and `internal`.
 */
export interface RouteDoc {
  method: HttpMethod;
  /** The Hono path, exactly as its route file says (`RouteDefinition.path`). */
  path: string;
  tag: Tag;
  summary: string;
  description?: string;
  auth: RouteAuth;
  headers?: RequestHeader[];
  /** Query parameters: an object schema, one parameter per property. */
  query?: z.ZodObject;
  /** The JSON body schema the handler validates with (`readJson(c, schema)`). */
  body?: z.ZodType;
  /** An example body, shown in `/docs` (checked against `body` by the OpenAPI tests). */
  example?: unknown;
  /** Whether the body may be omitted (an empty body counts as `{}`). Default: optional when every field is. */
  bodyRequired?: boolean;
  /** Success and special responses by status (`200`, `201`, `429` …). */
  responses: Partial<Record<number, ResponseDoc>>;
  errors?: ErrorCode[];
}

/** The OpenAPI document as `/openapi.json` and `/docs` read it, given to them by `createApp`. */
export interface ApiDocument {
  /** The document as JSON text, serialized once per process. */
  json(publicUrl: string): string;
  /** A copy of the document, to render. */
  // deno-lint-ignore no-explicit-any
  document(publicUrl: string): any;
}

/** The rate-limit headers of the metered answers. */
export const RATE_LIMIT_HEADERS: ResponseHeader[] = [
  "RateLimit-Limit",
  "RateLimit-Remaining",
  "RateLimit-Reset",
];
