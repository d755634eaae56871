/**
 * HTML answers for browser paths: the 404 page and the 500 page. API paths (`/api/…`,
 * `/dashboard/api/…`, webhooks) keep the JSON envelope; `wantsHtml` decides which.
 */
import type { AppContext } from "../http/route.ts";
import { DEFAULT_RETRY_AFTER_SECONDS, INTERNAL_MESSAGE } from "../errors.ts";
import { Shell } from "./layout.tsx";
import { renderPage } from "./render.tsx";
import { htmlSecurityHeaders } from "./security.ts";

/** Paths whose clients are programs: they always get the JSON envelope. */
const API_PATH = /^\/(?:api|dashboard\/api|webhook)(?:\/|$)/;

/**
 * Whether an error for this request should be an HTML page rather than JSON: not on an API path,
 * and not asked by a program that accepts JSON but not HTML (a mistyped URL in a script).
 */
export function wantsHtml(c: AppContext): boolean {
  if (API_PATH.test(c.req.path) || c.req.path === "/health") return false;
  const accept = c.req.header("accept") ?? "";
  return !(accept.includes("application/json") && !accept.includes("text/html"));
}

/** The 404 page. */
export function notFoundPage(c: AppContext): Promise<Response> {
  return renderPage(
    c,
    <ErrorPage
      status={404}
      title="Page not found"
      message="There is nothing at this address. It may have moved, or the link has a typo."
    />,
    { status: 404 },
  );
}

/**
 * The 500 page; falls back to plain text if even the page cannot render. `unavailable`: the fault
 * is one a retry can cure (storage that cannot answer), so the page is a 503 with `Retry-After`.
 */
export async function serverErrorPage(
  c: AppContext,
  options: { unavailable?: boolean } = {},
): Promise<Response> {
  const status = options.unavailable ? 503 : 500;
  const headers: Record<string, string> = options.unavailable
    ? { "retry-after": String(DEFAULT_RETRY_AFTER_SECONDS) }
    : {};
  try {
    return await renderPage(
      c,
      options.unavailable
        ? (
          <ErrorPage
            status={503}
            title="Temporarily unavailable"
            message="Our storage could not answer just now. Please retry in a moment."
          />
        )
        : (
          <ErrorPage
            status={500}
            title="Something went wrong"
            message="It's on our side and has been logged. Please retry in a moment."
          />
        ),
      { status, headers },
    );
  } catch {
    return c.text(INTERNAL_MESSAGE, status, {
      ...htmlSecurityHeaders(c.get("deps").config),
      "cache-control": "no-store",
      ...headers,
    });
  }
}

function ErrorPage({ status, title, message }: { status: number; title: string; message: string }) {
  return (
    <Shell title={title} width="narrow">
      <div class="empty">
        <p class="eyebrow">{status}</p>
        <h1>{title}</h1>
        <p>{message}</p>
        <div class="row row-center">
          <a class="btn btn-primary" href="/dashboard">Dashboard</a>
          <a class="btn btn-secondary" href="/">Home</a>
        </div>
      </div>
    </Shell>
  );
}
