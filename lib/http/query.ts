/** Reading and validating query strings at the edge. */
import type { Context } from "hono";
import type { z } from "zod";
import { invalidRequest } from "../errors.ts";

/** Parses the query parameters (first value of each) with `schema`; 400 naming the field. */
export function readQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw invalidRequest(parsed.error);
  return parsed.data;
}
