/**
 * A byte-exact HTTP/1.1 client over a raw TCP socket, for requests `fetch` refuses to send or
 * would repair: lying `Content-Length`, duplicate headers, undecodable paths, non-ASCII header
 * bytes. Every read is bounded by a deadline, so a server that never answers cannot hang a test.
 */

/** How a raw exchange ended. */
export type RawOutcome = "answered" | "closed" | "timeout" | "refused";

export interface RawAnswer {
  outcome: RawOutcome;
  /** 0 unless `answered`. */
  status: number;
  /** Response headers, lower-cased names; repeated headers joined with ", ". */
  headers: Headers;
  body: Uint8Array;
  text: string;
  /** Milliseconds from connect to the end of the answer. */
  ms: number;
}

export interface RawRequest {
  method: string;
  /** The request target exactly as sent (not normalised, not encoded). */
  target: string;
  /** In order, duplicates kept; values are strings (encoded as UTF-8) or raw bytes. */
  headers: [string, string | Uint8Array][];
  body?: Uint8Array;
  /**
   * The `Content-Length` to declare: a number (possibly a lie), `"none"` to send none, or
   * `"auto"` (the default: the body's real length when there is a body).
   */
  contentLength?: number | "none" | "auto";
  /** Half-close the socket after writing, so a server waiting for missing bytes sees EOF. */
  halfClose?: boolean;
  /** Bound on the whole exchange (default 5 s). */
  timeoutMs?: number;
  /**
   * Write all but the last byte, then wait for `hold` before writing it: lines many requests up
   * to complete at the same instant (and `written` tells when this one is lined up).
   */
  hold?: { release: Promise<unknown>; written?: () => void };
}

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** The bytes of a request: request line, headers (plus `Host` and `Connection: close` unless given), body. */
export function encodeRequest(host: string, req: RawRequest): Uint8Array {
  const parts: Uint8Array[] = [encoder.encode(`${req.method} ${req.target} HTTP/1.1\r\n`)];
  const names = new Set(req.headers.map(([n]) => n.toLowerCase()));
  const headers = [...req.headers];
  if (!names.has("host")) headers.unshift(["Host", host]);
  if (!names.has("connection")) headers.push(["Connection", "close"]);
  const cl = req.contentLength ?? "auto";
  if (typeof cl === "number") headers.push(["Content-Length", String(cl)]);
  else if (cl === "auto" && req.body !== undefined && !names.has("content-length")) {
    headers.push(["Content-Length", String(req.body.byteLength)]);
  }
  for (const [name, value] of headers) {
    parts.push(encoder.encode(`${name}: `));
    parts.push(typeof value === "string" ? encoder.encode(value) : value);
    parts.push(CRLF);
  }
  parts.push(CRLF);
  if (req.body) parts.push(req.body);
  return concat(parts);
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.byteLength - needle.byteLength; i++) {
    for (let j = 0; j < needle.byteLength; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

interface Parsed {
  status: number;
  headers: Headers;
  body: Uint8Array;
  complete: boolean;
}

const latin1 = new TextDecoder("latin1");
const HEAD_END = encoder.encode("\r\n\r\n");

/** Parses what has arrived so far; `complete` once the body's framing says it is all there. */
function parse(buf: Uint8Array, method: string, eof: boolean): Parsed | null {
  const end = indexOf(buf, HEAD_END);
  if (end < 0) return null;
  const lines = latin1.decode(buf.subarray(0, end)).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      try {
        headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      } catch { /* a header Headers refuses: ignore it */ }
    }
  }
  const rest = buf.subarray(end + 4);
  if (method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    return { status, headers, body: new Uint8Array(), complete: true };
  }
  const length = headers.get("content-length");
  if (length !== null && /^\d+$/.test(length)) {
    const n = Number(length);
    return { status, headers, body: rest.subarray(0, n), complete: rest.byteLength >= n };
  }
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    const chunks: Uint8Array[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = indexOf(rest, CRLF, at);
      if (lineEnd < 0) break;
      const size = parseInt(latin1.decode(rest.subarray(at, lineEnd)), 16);
      if (!Number.isFinite(size)) break;
      if (size === 0) return { status, headers, body: concat(chunks), complete: true };
      if (rest.byteLength < lineEnd + 2 + size + 2) break;
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    return { status, headers, body: concat(chunks), complete: eof };
  }
  return { status, headers, body: rest, complete: eof };
}

/**
 * Sends one request on a fresh connection to `origin` (`http://host:port`) and reads one answer,
 * never longer than `timeoutMs`.
 */
export async function rawRequest(origin: string, req: RawRequest): Promise<RawAnswer> {
  const url = new URL(origin);
  const started = performance.now();
  const timeoutMs = req.timeoutMs ?? 5_000;
  const answer = (outcome: RawOutcome, p?: Parsed | null): RawAnswer => ({
    outcome,
    status: p?.status ?? 0,
    headers: p?.headers ?? new Headers(),
    body: p?.body ?? new Uint8Array(),
    text: new TextDecoder().decode(p?.body ?? new Uint8Array()),
    ms: performance.now() - started,
  });
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  } catch {
    return answer("refused");
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch { /* closed already */ }
  }, timeoutMs);
  const received: Uint8Array[] = [];
  let total = 0;
  let parsed: Parsed | null = null;
  try {
    const bytes = encodeRequest(url.host, req);
    // Write in pieces: a server may answer (and close) before it has read a long body.
    try {
      const held = req.hold ? bytes.byteLength - 1 : bytes.byteLength;
      for (let at = 0; at < held;) at += await conn.write(bytes.subarray(at, held));
      if (req.hold) {
        req.hold.written?.();
        await req.hold.release;
        await conn.write(bytes.subarray(held));
      }
      if (req.halfClose) await conn.closeWrite();
    } catch { /* the server stopped reading; its answer may still be there */ }
    const chunk = new Uint8Array(64 * 1024);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(chunk);
      } catch {
        n = null;
      }
      if (n === null) {
        parsed = total ? parse(concat(received), req.method, true) : null;
        break;
      }
      received.push(chunk.slice(0, n));
      total += n;
      parsed = parse(concat(received), req.method, false);
      if (parsed?.complete) break;
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
  if (parsed && parsed.status) return answer("answered", parsed);
  return answer(timedOut ? "timeout" : "closed", parsed);
}
