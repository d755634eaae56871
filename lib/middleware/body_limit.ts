/** `limitBody`: refuses bodies over `MAX_BODY_BYTES` with 413, whether or not they say their length. */
import { define } from "../define.ts";
import { ApiError } from "../errors.ts";
import { MAX_BODY_BYTES } from "../http/body.ts";

export function limitBody(maxBytes = MAX_BODY_BYTES) {
  const tooLarge = () =>
    new ApiError("payload_too_large", `The body must be at most ${maxBytes} bytes.`);
  return define.middleware(async function limitBody(c, next) {
    const raw = c.req.raw;
    if (!raw.body) return await next();
    const length = raw.headers.get("content-length");
    if (length !== null && !raw.headers.has("transfer-encoding")) {
      if (parseInt(length, 10) > maxBytes) throw tooLarge();
      return await next();
    }
    // No declared length (chunked, or a POST without a body): read it, counting. The bytes go to
    // Hono's body cache, where c.req.text()/json()/arrayBuffer()/parseBody() find them. Why not
    // rebuild the Request like hono/body-limit: that costs an AbortSignal and, when the response
    // is done, a DOMException per request, a fifth of the hot path's time.
    const bytes = await readAtMost(raw.body, maxBytes);
    if (!bytes) throw tooLarge();
    const cache = c.req.bodyCache as Record<string, unknown>;
    // arrayBuffer first: Hono converts from the first cached form, and bytes convert losslessly.
    cache.arrayBuffer = Promise.resolve(bytes.buffer);
    if (bytes.byteLength === 0) cache.text = Promise.resolve("");
    return await next();
  });
}

/** The whole stream, or `null` as soon as it passes `max` bytes. */
async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  max: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
