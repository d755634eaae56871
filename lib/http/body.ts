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
  return parseJson(await c.req.text(), schema);
}

/** `readJson` for a body already read. */
export function parseJson<S extends z.ZodType>(text: string, schema: S): z.output<S> {
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
  return parseHeader(c.req.header(name), schema);
}

/** `readHeader` for a value already read (`null` and `undefined` are both absent). */
export function parseHeader<S extends z.ZodType>(
  value: string | null | undefined,
  schema: S,
): z.output<S> | undefined {
  if (value === undefined || value === null) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ApiError("invalid_request", parsed.error.issues[0].message);
  return parsed.data;
}

/** The 413 of a body over `maxBytes`. */
export function payloadTooLarge(maxBytes: number): ApiError {
  return new ApiError("payload_too_large", `The body must be at most ${maxBytes} bytes.`);
}

/**
 * The body length `req` declares (`Content-Length` without `Transfer-Encoding`), 413 when that is
 * over `maxBytes`; `null` when it declares none, and the body must be counted while read.
 */
export function declaredLength(req: Request, maxBytes: number): number | null {
  const length = req.headers.get("content-length");
  if (length === null || req.headers.has("transfer-encoding")) return null;
  const bytes = parseInt(length, 10);
  if (bytes > maxBytes) throw payloadTooLarge(maxBytes);
  return bytes;
}

/**
 * The body of `req` as text, or 413 when it is longer than `maxBytes`: refused on its declared
 * length before anything is read, else counted while read.
 */
export async function readLimitedText(req: Request, maxBytes: number): Promise<string> {
  if (!req.body) return "";
  const declared = declaredLength(req, maxBytes);
  if (declared !== null) return declared === 0 ? "" : await req.text();
  const bytes = await readAtMost(req.body, maxBytes);
  if (!bytes) throw payloadTooLarge(maxBytes);
  return bytes.byteLength === 0 ? "" : UTF8.decode(bytes);
}

/** The whole stream, or `null` as soon as it passes `max` bytes. */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  max: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const reader = stream.getReader();
  const first = await reader.read();
  // The common case on the hot path: a POST with no body at all.
  if (first.done) return EMPTY;
  const chunks: Uint8Array[] = [first.value];
  let size = first.value.byteLength;
  for (;;) {
    if (size > max) {
      await reader.cancel();
      return null;
    }
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    chunks.push(value);
  }
  const [only] = chunks;
  // One chunk that owns its whole buffer is the body as it is (callers may use `.buffer`).
  if (
    chunks.length === 1 && only.buffer instanceof ArrayBuffer && only.byteOffset === 0 &&
    only.byteLength === only.buffer.byteLength
  ) {
    return only as Uint8Array<ArrayBuffer>;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const EMPTY = new Uint8Array(0);
const UTF8 = new TextDecoder();
