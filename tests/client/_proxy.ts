/**
 * Proxies between the client and the real server, to make answers go missing in the ways real
 * networks lose them. Loopback only.
 */

export interface Proxy extends AsyncDisposable {
  url: string;
  /** Connections (TCP proxy) or requests (HTTP proxy) seen so far. */
  seen(): number;
  /** Request heads (method, path, headers) as the proxy saw them, in order. */
  requests: { method: string; path: string; headers: Headers }[];
}

/**
 * A TCP proxy that lets the first `drops` connections reach the server, waits until the server
 * has started answering (so it has done the work), then closes the client's connection without
 * passing on a byte: the client sees a network error after the server counted.
 */
export function dropAnswersProxy(target: URL, drops: number): Proxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const requests: Proxy["requests"] = [];
  let connections = 0;

  const close = (conn: Deno.Conn) => {
    if (!open.delete(conn)) return;
    try {
      conn.close();
    } catch { /* already closed */ }
  };

  async function handle(client: Deno.Conn, drop: boolean) {
    open.add(client);
    const server = await Deno.connect({ hostname: target.hostname, port: Number(target.port) });
    open.add(server);
    const toServer = (async () => {
      const decoder = new TextDecoder();
      let head = "";
      for await (const chunk of client.readable) {
        if (!head.includes("\r\n\r\n")) {
          head += decoder.decode(chunk, { stream: true });
          if (head.includes("\r\n\r\n")) requests.push(parseHead(head));
        }
        await writeAll(server, chunk);
      }
    })().catch(() => {});
    const toClient = (async () => {
      for await (const chunk of server.readable) {
        if (drop) return; // the server answered, so it counted: lose the answer
        await writeAll(client, chunk);
      }
    })().catch(() => {});
    await toClient;
    close(client);
    close(server);
    await toServer;
  }

  const accepting = (async () => {
    for await (const conn of listener) {
      const drop = connections++ < drops;
      const task = handle(conn, drop).catch(() => {});
      tasks.add(task);
      task.finally(() => tasks.delete(task));
    }
  })().catch(() => {});

  const { port } = listener.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    seen: () => connections,
    requests,
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const conn of [...open]) close(conn);
      await Promise.all(tasks);
    },
  };
}

/**
 * An HTTP proxy that forwards every request to the server and, for the first `failures`, throws
 * the server's answer away and answers `status` instead (what a gateway does when the upstream
 * answered too late).
 */
export function failingProxy(
  target: URL,
  failures: number,
  options: { status?: number; forward?: boolean } = {},
): Proxy {
  const requests: Proxy["requests"] = [];
  let count = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    requests.push({ method: req.method, path: url.pathname, headers: req.headers });
    const fail = count++ < failures;
    if (fail && options.forward === false) {
      return new Response("<html>bad gateway</html>", {
        status: options.status ?? 502,
        headers: { "content-type": "text/html" },
      });
    }
    const upstream = await fetch(new URL(url.pathname + url.search, target), {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
    if (!fail) return upstream;
    await upstream.body?.cancel();
    return new Response("<html>bad gateway</html>", {
      status: options.status ?? 502,
      headers: { "content-type": "text/html" },
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen: () => count,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

async function writeAll(conn: Deno.Conn, data: Uint8Array) {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
}

function parseHead(head: string): Proxy["requests"][number] {
  const [requestLine, ...lines] = head.slice(0, head.indexOf("\r\n\r\n")).split("\r\n");
  const [method, path] = requestLine.split(" ");
  const headers = new Headers();
  for (const line of lines) {
    const i = line.indexOf(":");
    if (i > 0) headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return { method, path, headers };
}
