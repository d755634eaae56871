/** Reading and validating query strings at the edge. */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "../errors.ts";

/** Parses the query parameters (first value of each) with `schema`; 400 naming the field. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    const message = issue.message.startsWith(field) ? issue.message : `${field}${issue.message}`;
    throw new ApiError(
      "invalid_request",
      message,
      parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  return parsed.data;
}
