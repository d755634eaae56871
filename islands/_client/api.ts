/**
 * Browser helpers shared by the islands: calling the founders' JSON API and the clipboard.
 * Islands call our own same-origin API with the session cookie; the server checks `Origin`,
 * which browsers send on these `fetch` POSTs.
 */

/** A failed call, in the API's error envelope terms. */
export interface ApiProblem {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

export type ApiResult<T> = { ok: true; status: number; data: T } | {
  ok: false;
  problem: ApiProblem;
};

/** Calls `/dashboard/api/…` with JSON in and out; never throws. */
export async function callApi<T>(
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
): Promise<ApiResult<T>> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined
        ? { accept: "application/json" }
        : { accept: "application/json", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return {
      ok: false,
      problem: { status: 0, code: "network", message: "Could not reach the server. Retry." },
    };
  }
  // deno-lint-ignore no-explicit-any
  let data: any = null;
  try {
    data = await res.json();
  } catch {
    // Non-JSON answers (a proxy's error page) fall through to the generic message below.
  }
  if (res.ok) return { ok: true, status: res.status, data: data as T };
  const error = data?.error;
  return {
    ok: false,
    problem: {
      status: res.status,
      code: typeof error?.code === "string" ? error.code : "internal",
      message: typeof error?.message === "string"
        ? error.message
        : `The server answered ${res.status}. Retry in a moment.`,
      details: error?.details,
    },
  };
}

/** Writes `text` to the clipboard; falls back to a hidden textarea where the API is missing. */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}
