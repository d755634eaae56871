/**
 * The API reference at `/docs`, rendered on the server from the OpenAPI document alone (its
 * operations, schemas, parameters, headers and error codes). Server-only; the code blocks' copy
 * buttons are the only JavaScript.
 */
import type { ComponentChildren } from "preact";
import {
  constraints,
  curlFor,
  exampleOf,
  type Field,
  fields,
  jsonSchemaOf,
  type Operation,
  operationsByTag,
  parametersOf,
  refName,
  resolve,
  typeLabel,
} from "../openapi/describe.ts";
import { Badge, CodeBlock, type Tone } from "./components.tsx";

// deno-lint-ignore no-explicit-any
type Json = any;

const METHOD_TONE: Record<string, Tone> = {
  get: "info",
  post: "ok",
  put: "warn",
  patch: "warn",
  delete: "danger",
};

/** `code` spans in the document's prose. */
function Prose({ text }: { text?: string }) {
  if (!text) return null;
  return (
    <>
      {text.split("\n\n").map((paragraph) => (
        <p>
          {paragraph.split(/(`[^`]+`)/).map((part, i) =>
            part.startsWith("`") && part.endsWith("`") && part.length > 1
              ? <code key={i}>{part.slice(1, -1)}</code>
              : part
          )}
        </p>
      ))}
    </>
  );
}

/** How a security scheme is sent, in a few words. */
function schemeLabel(scheme: Json): string {
  if (scheme.type === "apiKey") return `${scheme.name} cookie`;
  return scheme.bearerFormat === "JWT" ? "session token (Bearer)" : "API key (Bearer)";
}

function MethodBadge({ method }: { method: string }) {
  return (
    <span class="docs-method">
      <Badge tone={METHOD_TONE[method] ?? "neutral"}>{method.toUpperCase()}</Badge>
    </span>
  );
}

function FieldsTable({ rows, caption }: { rows: Field[]; caption: string }) {
  if (rows.length === 0) return null;
  return (
    <div class="table-wrap">
      <table class="docs-table">
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th>Field</th>
            <th>Type</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((f) => (
            <tr>
              <td>
                <code>{f.name}</code>
                {f.required ? <span class="docs-required">required</span> : null}
              </td>
              <td class="docs-type">{f.type}</td>
              <td class="docs-desc">
                {f.description && <Prose text={f.description} />}
                {f.constraints.length > 0 && <p class="muted small">{f.constraints.join(" · ")}</p>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Section(
  { id, title, children }: { id: string; title: ComponentChildren; children: ComponentChildren },
) {
  return (
    <section class="card docs-section" id={id}>
      <h2 class="card-title">{title}</h2>
      {children}
    </section>
  );
}

function OperationView(
  { doc, operation, baseUrl }: { doc: Json; operation: Operation; baseUrl: string },
) {
  const { method, path, op } = operation;
  const security = op.security.flatMap((s: Json) => Object.keys(s));
  const tenant = security.includes("apiKey");
  const parameters = parametersOf(doc, op);
  const body = op.requestBody?.content?.["application/json"];
  return (
    <article class="card docs-op" id={op.operationId} data-testid="operation">
      <header class="docs-op-head">
        <h3>
          <MethodBadge method={method} />
          <code class="docs-path">{path}</code>
        </h3>
        <p class="docs-summary">{op.summary}</p>
      </header>
      <div class="docs-prose">
        <Prose text={op.description} />
      </div>
      <p class="small muted">
        Authentication: {security.map((name: string, i: number) => (
          <>
            {i > 0 && " or "}
            <a href={`#auth-${name}`}>{schemeLabel(doc.components.securitySchemes[name])}</a>
          </>
        ))}
      </p>

      {parameters.length > 0 && (
        <>
          <h4>Headers and parameters</h4>
          <div class="table-wrap">
            <table class="docs-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Description</th>
                </tr>
              </thead>
              <tbody>
                {parameters.map((p) => (
                  <tr>
                    <td>
                      <code>{p.name}</code>
                      {p.required ? <span class="docs-required">required</span> : null}
                      <span class="docs-in">{p.in}</span>
                    </td>
                    <td class="docs-desc">
                      <Prose text={p.description} />
                      <p class="muted small">
                        {[typeLabel(doc, p.schema), ...constraints(p.schema)].join(" · ")}
                      </p>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      {body && (
        <>
          <h4>
            Request body{" "}
            <span class="muted small">
              {op.requestBody.required ? "required" : "optional"} · application/json
            </span>
          </h4>
          <FieldsTable rows={fields(doc, body.schema)} caption="Request body fields" />
        </>
      )}

      {tenant && (
        <CodeBlock
          code={curlFor(doc, path, method, { baseUrl, token: "dk_live_…" })}
          label="Example request"
        />
      )}
      {!tenant && body && (
        <CodeBlock
          code={JSON.stringify(body.example ?? exampleOf(doc, body.schema), null, 2)}
          label="Example body"
          language="json"
        />
      )}

      <h4>Responses</h4>
      <div class="docs-responses">
        {Object.entries(op.responses).map(([status, response]) => (
          <ResponseView doc={doc} status={status} response={response} />
        ))}
      </div>
    </article>
  );
}

function ResponseView({ doc, status, response }: { doc: Json; status: string; response: Json }) {
  const media = response.content?.["application/json"];
  const schema = jsonSchemaOf(response.content);
  const isError = Number(status) >= 400 && media?.examples;
  const tone: Tone = Number(status) < 300 ? "ok" : Number(status) < 500 ? "warn" : "danger";
  const headers = Object.keys(response.headers ?? {});
  return (
    <div class="docs-response" data-status={status}>
      <div class="docs-response-head">
        <Badge tone={tone}>{status}</Badge>
        {isError
          ? (
            <span class="docs-codes">
              {Object.keys(media.examples).map((code) => (
                <a href={`#error-${code}`}>
                  <code>{code}</code>
                </a>
              ))}
            </span>
          )
          : <Prose text={response.description} />}
      </div>
      {headers.length > 0 && (
        <p class="small muted">
          Headers: {headers.map((h, i) => (
            <>
              {i > 0 && ", "}
              <a href={`#header-${h}`}>
                <code>{h}</code>
              </a>
            </>
          ))}
        </p>
      )}
      {!isError && schema && (
        <details class="docs-details">
          <summary>
            Body: <code>{schema.$ref ? refName(schema.$ref) : typeLabel(doc, schema)}</code>
          </summary>
          <FieldsTable rows={fields(doc, schema)} caption={`${status} body fields`} />
          <CodeBlock
            code={JSON.stringify(exampleOf(doc, schema), null, 2)}
            label={`${status} example`}
            language="json"
          />
        </details>
      )}
    </div>
  );
}

/**
 * The whole reference page body (inside the site's `<Shell>`).
 * @example <ApiReference doc={openApiDocument(publicUrl)} baseUrl={publicUrl} />
 */
export function ApiReference({ doc, baseUrl }: { doc: Json; baseUrl: string }) {
  const groups = operationsByTag(doc);
  const errorCodes: { code: string; status: number; meaning: string; example: string }[] =
    doc["x-error-codes"] ?? [];
  const envelope = resolve(doc, { $ref: "#/components/schemas/ErrorEnvelope" });
  const firstCall = curlFor(doc, "/api/data", "post", { baseUrl, token: "dk_live_…" });
  const clientExample =
    `import { DreamApi, LimitExceededError } from "${baseUrl}/client/dream_api.ts";

const dream = new DreamApi({ apiKey: Deno.env.get("DREAM_API_KEY")!, baseUrl: "${baseUrl}" });
try {
  const { usage } = await dream.track("user_123");
  console.log(\`\${usage.count} of \${usage.limit ?? "unlimited"} used\`);
} catch (error) {
  if (error instanceof LimitExceededError) console.log(\`resets in \${error.retryAfter} s\`);
  else throw error;
}`;

  return (
    <>
      <div class="page-header">
        <div>
          <h1>API reference</h1>
          <p class="lead">{doc.info.summary}</p>
        </div>
        <div class="page-actions">
          <a class="btn btn-secondary btn-sm" href="/openapi.json">OpenAPI 3.1 (JSON)</a>
          <a class="btn btn-ghost btn-sm" href="/client/dream_api.ts">TypeScript client</a>
        </div>
      </div>
      <div class="docs">
        {
          /* One "Contents" control on narrow screens (a <details>: no script); on wide screens
            docs.css shows the contents as a sidebar and hides the control. */
        }
        <details class="docs-toc-box" data-testid="docs-contents">
          <summary class="docs-toc-summary">Contents</summary>
          <nav class="docs-toc" aria-label="API reference">
            <p class="docs-toc-title">Reference</p>
            <a href="#start">Getting started</a>
            <a href="#auth">Authentication</a>
            <a href="#errors">Errors</a>
            <a href="#headers">Headers</a>
            {groups.map(({ tag, operations }) => (
              <>
                <p class="docs-toc-title">{tag.name}</p>
                {operations.map(({ method, path, op }) => (
                  <a href={`#${op.operationId}`}>
                    <span class={`docs-toc-method docs-m-${method}`}>{method.toUpperCase()}</span>
                    <span class="docs-toc-path">{breakAfterSlashes(path)}</span>
                  </a>
                ))}
              </>
            ))}
          </nav>
        </details>

        <div class="docs-main stack-lg">
          <Section id="start" title="Getting started">
            <div class="docs-prose">
              <Prose text={doc.info.description} />
              <p>
                Base URL: <code>{doc.servers[0].url}</code>. Version {doc.info.version}.
              </p>
            </div>
            <CodeBlock code={firstCall} label="Count one unit for an end-user" />
            <p class="docs-prose">
              Or use the typed client (no dependencies beyond{" "}
              <code>fetch</code>; Deno, Node 20+, Bun, edge). It retries lost answers safely with an
              {" "}
              <code>Idempotency-Key</code>.
            </p>
            <CodeBlock code={clientExample} label="TypeScript" language="ts" />
          </Section>

          <Section id="auth" title="Authentication">
            <dl class="kv docs-kv">
              {Object.entries(doc.components.securitySchemes).map((
                [name, scheme]: [string, Json],
              ) => (
                <>
                  <dt id={`auth-${name}`}>
                    <code>{name}</code>
                  </dt>
                  <dd>
                    <p class="small muted">
                      {scheme.type === "http"
                        ? `Authorization: Bearer (${scheme.bearerFormat})`
                        : `Cookie ${scheme.name}`}
                    </p>
                    <Prose text={scheme.description} />
                  </dd>
                </>
              ))}
            </dl>
          </Section>

          <Section id="errors" title="Errors">
            <div class="docs-prose">
              <p>
                Every error has one shape; the <code>code</code> decides the HTTP status.
              </p>
            </div>
            <FieldsTable rows={fields(doc, envelope)} caption="Error envelope" />
            <div class="table-wrap">
              <table class="docs-table" data-testid="error-codes">
                <thead>
                  <tr>
                    <th>Code</th>
                    <th class="num">Status</th>
                    <th>When</th>
                  </tr>
                </thead>
                <tbody>
                  {errorCodes.map((e) => (
                    <tr id={`error-${e.code}`}>
                      <td>
                        <code>{e.code}</code>
                      </td>
                      <td class="num">{e.status}</td>
                      <td class="docs-desc">
                        <Prose text={e.meaning} />
                        <p class="muted small">“{e.example}”</p>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </Section>

          <Section id="headers" title="Headers">
            <h4>Request</h4>
            <dl class="kv docs-kv">
              {Object.values(doc.components.parameters).map((p: Json) => (
                <>
                  <dt id={`header-${p.name}`}>
                    <code>{p.name}</code>
                    {p.required && <span class="docs-required">required</span>}
                  </dt>
                  <dd>
                    <Prose text={p.description} />
                  </dd>
                </>
              ))}
            </dl>
            <h4>Response</h4>
            <dl class="kv docs-kv">
              {Object.entries(doc.components.headers).map(([name, h]: [string, Json]) => (
                <>
                  <dt id={`header-${name}`}>
                    <code>{name}</code>
                  </dt>
                  <dd>
                    <Prose text={h.description} />
                  </dd>
                </>
              ))}
            </dl>
          </Section>

          {groups.map(({ tag, operations }) => (
            <div class="stack" id={`tag-${tag.name.toLowerCase().replace(/[^a-z]+/g, "-")}`}>
              <div class="section-head docs-tag">
                <h2>{tag.name}</h2>
                <Prose text={tag.description} />
              </div>
              {operations.map((operation) => (
                <OperationView doc={doc} operation={operation} baseUrl={baseUrl} />
              ))}
            </div>
          ))}
        </div>
      </div>
    </>
  );
}

/**
 * `/dashboard/api/tiers/preview` with a line-break opportunity after each slash and none inside a
 * segment (not even at the hyphen of `billing-portal`).
 */
function breakAfterSlashes(path: string) {
  return path.split("/").flatMap((part, i) =>
    i === 0
      ? [part]
      : ["/", <wbr key={`b${i}`} />, <span key={`w${i}`} class="docs-toc-word">{part}</span>]
  );
}
