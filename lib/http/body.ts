/** Reading and validating request bodies and headers at the edge. */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "../errors.ts";

/** The most bytes any JSON body may have. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Parses the JSON body against `schema`. An empty body counts as `{}`; malformed JSON and schema
 * failures are 400 `invalid_request` naming the field.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim() !== "") {
    try {
      raw = JSON.parse(text);
    } catch {
      throw new ApiError("invalid_request", "The body is not valid JSON.");
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    throw new ApiError(
      "invalid_request",
      `${field}${issue.message}`,
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return parsed.data;
}

/** Validates an optional header with `schema`; 400 with the schema's message when it fails. */
export function readHeader<S extends z.ZodType>(
  c: Context,
  name: string,
  schema: S,
): z.output<S> | undefined {
  const value = c.req.header(name);
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError("invalid_request", parsed.error.issues[0].message);
  return parsed.data;
}
