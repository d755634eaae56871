/** Reading and validating request bodies and headers at the edge. */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, invalidRequest } from "../errors.ts";
import { type BodyBudget, bodyBudgetExhausted, bodyTimedOut } from "./body_budget.ts";

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
  if (!parsed.success) throw invalidRequest(parsed.error);
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
  if (!parsed.success) throw invalidRequest(parsed.error, { brief: true });
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
 * The body of `req`, bounded three ways: 413 when it is longer than `maxBytes` (refused on its
 * declared length before anything is read, else counted while read); 503 when the process's
 * `budget` cannot hold it (its declared length taken before reading, else each chunk as it
 * arrives); 408 when it has not fully arrived within the budget's timeout. The bytes stay taken
 * from the budget: the caller gives back `byteLength` when the request is done (on failure
 * nothing stays taken).
 */
export async function readLimitedBody(
  req: Request,
  maxBytes: number,
  budget: BodyBudget,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!req.body) return EMPTY;
  const declared = declaredLength(req, maxBytes);
  if (declared === 0) return EMPTY;
  const small = maxBytes <= MAX_BODY_BYTES;
  if (declared !== null && !budget.take(declared, small)) throw bodyBudgetExhausted();
  let bytes;
  try {
    bytes = await readAtMost(req.body, maxBytes, budget, declared === null ? small : null);
  } catch (error) {
    if (declared !== null) budget.release(declared);
    throw error;
  }
  if (declared !== null && bytes !== null && bytes.byteLength !== declared) {
    budget.release(declared - bytes.byteLength);
  }
  if (!bytes) {
    if (declared !== null) budget.release(declared);
    throw payloadTooLarge(maxBytes);
  }
  return bytes;
}

/**
 * The whole stream, or `null` as soon as it passes `max` bytes. With `take` set (the body's size
 * was not declared) each chunk is taken from `budget` as it arrives: 503 when one does not fit.
 * On every failure what it took is given back. 408 when the budget's deadline cancels the read.
 */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  max: number,
  budget: BodyBudget,
  take: boolean | null,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const reader = stream.getReader();
  const watch = budget.watch(reader);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (watch.expired) throw bodyTimedOut(budget.timeoutMs);
      if (done) break;
      size += value.byteLength;
      if (take !== null && !budget.take(value.byteLength, take)) {
        size -= value.byteLength;
        await reader.cancel();
        throw bodyBudgetExhausted();
      }
      chunks.push(value);
      if (size > max) {
        await reader.cancel();
        if (take !== null) budget.release(size);
        return null;
      }
    }
  } catch (error) {
    if (take !== null) budget.release(size);
    if (watch.expired) throw bodyTimedOut(budget.timeoutMs);
    if (error instanceof ApiError) throw error;
    // The connection failed mid-body (a client that closed before its declared Content-Length,
    // a reset): the client's fault, not ours and not storage's, so a 400 rather than a 5xx.
    throw new ApiError("invalid_request", "The request body ended before it was complete.");
  } finally {
    budget.unwatch(watch);
  }
  // The common case on the hot path: a POST with no body at all.
  if (chunks.length === 0) return EMPTY;
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

/** Bytes as text (UTF-8, as `Request.text()` decodes them). */
export function decodeText(bytes: Uint8Array): string {
  return bytes.byteLength === 0 ? "" : UTF8.decode(bytes);
}

const EMPTY = new Uint8Array(0);
const UTF8 = new TextDecoder();
