/**
 * The OpenAPI document: valid OpenAPI 3.1, in step with the routes the app serves, and true to
 * the answers the real app gives (each checked against the document's own JSON Schemas).
 */
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { ERROR_STATUS } from "../../lib/errors.ts";
import { buildOpenApi, openApiPath } from "../../lib/openapi/document.ts";
import { ROUTES } from "../../lib/openapi/routes.ts";
import { paidFounderWithPlatform } from "../analytics/_world.ts";
import { FEATURE_TIERS } from "../api/_features.ts";
import {
  founderHeaders,
  json,
  payFounder,
  seedPlatform,
  tenantHeaders,
  testApp,
} from "../_helpers/app.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

async function fetchDocument(t: Awaited<ReturnType<typeof testApp>>): Promise<Json> {
  const res = await t.app.request("/openapi.json");
  const { body, text } = await json(res);
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get("content-type"), "application/json", text);
  return body;
}

/** `METHOD path` of every operation the app serves under the given prefixes (405 catch-alls excluded). */
function servedOperations(app: { routes: { method: string; path: string }[] }): Set<string> {
  return new Set(
    app.routes
      .filter((r) => r.method !== "ALL")
      .filter((r) => r.path.startsWith("/api/") || r.path.startsWith("/dashboard/api/"))
      .map((r) => `${r.method} ${openApiPath(r.path)}`),
  );
}

function documentedOperations(doc: Json): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths) as [string, Json][]) {
    for (const method of Object.keys(item)) out.add(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

/** Checks a real answer against the document: the status is documented and the body fits its schema. */
class Conformance {
  #ajv = new Ajv2020({ strict: false, allErrors: true });
  #base = "https://dream-api.test/openapi.json";
  constructor(private doc: Json) {
    addFormats.default(this.#ajv);
    this.#ajv.addSchema({ $id: this.#base, components: { schemas: doc.components.schemas } });
  }

  async check(method: string, path: string, res: Response): Promise<Json> {
    const isJson = (res.headers.get("content-type") ?? "").startsWith("application/json");
    const { body, text } = isJson ? await json(res) : { body: undefined, text: await res.text() };
    const operation = this.doc.paths[path]?.[method.toLowerCase()];
    assert.ok(operation, `${method} ${path} is not in the document`);
    const documented = operation.responses[String(res.status)];
    assert.ok(documented, `${method} ${path} answered an undocumented ${res.status}: ${text}`);
    const type = (res.headers.get("content-type") ?? "").split(";")[0].trim();
    const media = documented.content?.[type];
    assert.ok(media, `${method} ${path} ${res.status}: ${type} is not documented`);
    if (type !== "application/json") return text;
    assert.equal(res.headers.get("content-type"), "application/json", text);
    const validate = this.#ajv.compile({ $ref: this.#refOf(media.schema) });
    const candidate: unknown = body; // keep `body` un-narrowed by the type guard
    assert.ok(
      validate(candidate),
      `${method} ${path} ${res.status} does not match the document: ${
        JSON.stringify(validate.errors)
      }\n${text}`,
    );
    if (body?.success === false && body.error?.code) {
      assert.equal(ERROR_STATUS[body.error.code as keyof typeof ERROR_STATUS], res.status, text);
    }
    for (const [name, header] of Object.entries(documented.headers ?? {}) as [string, Json][]) {
      const value = res.headers.get(name);
      if (value === null) continue; // documented headers may be conditional (unlimited tiers, replays)
      const schema = this.doc.components.headers[name.replace(/^.*\//, "")]?.schema ??
        header.schema;
      if (schema?.type === "integer") assert.match(value, /^\d+$/, `${name}: ${value}`);
    }
    return body;
  }

  #refOf(schema: Json): string {
    if (schema.$ref) return `${this.#base}${schema.$ref}`;
    const id = `${this.#base}#inline-${crypto.randomUUID()}`;
    this.#ajv.addSchema({ ...schema, $id: id });
    return id;
  }
}

Deno.test("GET /openapi.json answers a valid OpenAPI 3.1 document", async () => {
  await using t = await testApp({ env: { PUBLIC_URL: "https://api.example.com" } });
  const doc = await fetchDocument(t);
  assert.equal(doc.openapi, "3.1.0");
  const result = await new Validator().validate(doc);
  assert.deepEqual(result, { valid: true }, JSON.stringify(result.errors, null, 2));
  assert.deepEqual(doc.servers.map((s: Json) => s.url), ["https://api.example.com"]);
});

Deno.test("the document has every route the app serves under /api and /dashboard/api, and no other", async () => {
  await using t = await testApp();
  const doc = await fetchDocument(t);
  const served = servedOperations(t.app);
  const documented = documentedOperations(doc);
  const missing = [...served].filter((op) => !documented.has(op));
  const extra = [...documented].filter((op) => !served.has(op));
  assert.deepEqual(
    missing,
    [],
    `served but not documented (give their methods docs in their files under routes/)`,
  );
  assert.deepEqual(extra, [], `documented but not served`);
  assert.ok(
    served.has("POST /api/data") && served.has("GET /dashboard/api/me"),
    [...served].join(),
  );
});

Deno.test("every operation has an id, a summary, its security and its error answers", () => {
  const doc = buildOpenApi({ publicUrl: "http://localhost:8000" });
  const ids = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths) as [string, Json][]) {
    for (const [method, op] of Object.entries(item) as [string, Json][]) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok(op.summary, where);
      assert.ok(!ids.has(op.operationId), `duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      const schemes = op.security.flatMap((s: Json) => Object.keys(s));
      if (path.startsWith("/api/")) assert.deepEqual(schemes, ["apiKey"], where);
      else assert.deepEqual(schemes, ["founderBearer", "founderCookie"], where);
      for (const code of ["unauthorized", "internal"] as const) {
        const examples = op.responses[ERROR_STATUS[code]]?.content["application/json"].examples;
        assert.ok(examples?.[code], `${where} documents ${code}`);
      }
      if (path.startsWith("/api/")) {
        const userId = op.parameters.map((p: Json) => p.$ref);
        assert.ok(userId.includes("#/components/parameters/X-User-Id"), where);
      }
      // Each error example sits under the status its code has.
      for (const [status, response] of Object.entries(op.responses) as [string, Json][]) {
        const examples = response.content?.["application/json"]?.examples ?? {};
        for (const example of Object.values(examples) as Json[]) {
          const code = example.value.error.code as keyof typeof ERROR_STATUS;
          assert.equal(String(ERROR_STATUS[code]), status, `${where}: ${code}`);
        }
      }
    }
  }
});

Deno.test("the error envelope lists every error code of lib/errors.ts, and the headers and schemes are described", () => {
  const doc = buildOpenApi({ publicUrl: "http://localhost:8000" });
  const envelope = doc.components.schemas.ErrorEnvelope;
  const codeSchema = envelope.properties.error.properties.code;
  const codes = codeSchema.$ref
    ? doc.components.schemas[codeSchema.$ref.split("/").pop()].enum
    : codeSchema.enum;
  assert.deepEqual([...codes].sort(), Object.keys(ERROR_STATUS).sort());
  assert.deepEqual(Object.keys(doc.components.parameters).sort(), [
    "Idempotency-Key",
    "X-User-Id",
    "X-User-Plan",
  ]);
  for (
    const h of ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"]
  ) assert.ok(doc.components.headers[h]?.description, h);
  assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), [
    "apiKey",
    "founderBearer",
    "founderCookie",
  ]);
  // Request bodies come from the handlers' own schemas: the default of `amount` is there.
  assert.equal(doc.components.schemas.TrackBody.properties.amount.default, 1);
  assert.equal(doc.components.schemas.TrackBody.properties.amount.maximum, 1_000_000);
});

Deno.test("every example in the document passes the schema it illustrates", () => {
  const doc = buildOpenApi({ publicUrl: "http://localhost:8000" });
  // Request examples go through the handler's own zod schema.
  for (const route of ROUTES) {
    if (route.example === undefined) continue;
    const parsed = route.body!.safeParse(route.example);
    assert.ok(
      parsed.success,
      `${route.method} ${route.path}: ${JSON.stringify(parsed.error?.issues)}`,
    );
  }
  assert.ok(
    ROUTES.filter((r) => r.body).every((r) => r.example !== undefined),
    "every body has one",
  );
  // Schema examples go through the document's JSON Schema.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const base = "https://dream-api.test/openapi.json";
  ajv.addSchema({ $id: base, components: { schemas: doc.components.schemas } });
  let checked = 0;
  for (const [name, schema] of Object.entries(doc.components.schemas) as [string, Json][]) {
    for (const example of schema.examples ?? []) {
      const validate = ajv.compile({ $ref: `${base}#/components/schemas/${name}` });
      assert.ok(validate(example), `${name}: ${JSON.stringify(validate.errors)}`);
      checked++;
    }
  }
  assert.ok(checked >= 5, `only ${checked} schema examples`);
  for (const entry of doc["x-error-codes"]) {
    assert.equal(entry.status, ERROR_STATUS[entry.code as keyof typeof ERROR_STATUS]);
  }
});

Deno.test("the tenant API's real answers match the document (200, 429, 409, 400, 401, 413)", async () => {
  await using t = await testApp();
  const doc = await fetchDocument(t);
  const check = new Conformance(doc);
  const { apiKey } = await seedPlatform(t.kv, [
    { id: "free", name: "Free", price: 0, limit: 3, period: "month" },
    { id: "unlimited", name: "Unlimited", price: 99, limit: null, period: "month" },
  ]);
  const headers = tenantHeaders(apiKey, "user_1");
  const post = (init: RequestInit = {}) =>
    t.app.request("/api/data", {
      method: "POST",
      ...init,
      headers: { ...headers, ...init.headers },
    });

  let res = await post({ body: '{"amount":2}', headers: { "idempotency-key": "k1" } });
  assert.equal(res.headers.get("ratelimit-limit"), "3");
  let body = await check.check("POST", "/api/data", res);
  assert.equal(body.usage.count, 2);

  res = await post({ body: '{"amount":2}', headers: { "idempotency-key": "k1" } });
  assert.equal(res.headers.get("idempotent-replayed"), "true");
  await check.check("POST", "/api/data", res);

  res = await post({ body: '{"amount":1}', headers: { "idempotency-key": "k1" } });
  assert.equal(res.status, 409);
  await check.check("POST", "/api/data", res);

  res = await post({ body: '{"amount":2}' });
  body = await check.check("POST", "/api/data", res);
  assert.equal(res.status, 429);
  assert.match(res.headers.get("retry-after") ?? "", /^\d+$/);

  body = await check.check("GET", "/api/usage", await t.app.request("/api/usage", { headers }));
  assert.equal(body.usage.count, 2);
  body = await check.check(
    "GET",
    "/api/usage",
    await t.app.request("/api/usage", { headers: { ...headers, "x-user-plan": "unlimited" } }),
  );
  assert.equal(body.usage.limit, null);

  await check.check("POST", "/api/data", await post({ body: '{"amount":0}' }));
  await check.check("POST", "/api/data", await post({ body: "{" }));
  await check.check("POST", "/api/data", await post({ body: "x".repeat(17 * 1024) }));
  await check.check(
    "POST",
    "/api/data",
    await t.app.request("/api/data", { method: "POST", headers: { "x-user-id": "u" } }),
  );
  await check.check(
    "GET",
    "/api/usage",
    await t.app.request("/api/usage", { headers: { ...headers, "x-user-plan": "gold" } }),
  );
});

Deno.test("the tenant API's answers with features match the document (200, 429, 403, 400; /api/check)", async () => {
  await using t = await testApp();
  const doc = await fetchDocument(t);
  const check = new Conformance(doc);
  const { apiKey } = await seedPlatform(t.kv, FEATURE_TIERS);
  const headers = tenantHeaders(apiKey, "user_1");
  const post = (feature: string, amount = 1) =>
    t.app.request("/api/data", {
      method: "POST",
      headers,
      body: JSON.stringify({ feature, amount }),
    });
  const get = (path: string) => t.app.request(path, { headers });

  let body = await check.check("POST", "/api/data", await post("exports", 5));
  assert.equal(body.feature, "exports");
  body = await check.check("POST", "/api/data", await post("exports"));
  assert.equal(body.error.code, "limit_exceeded");
  body = await check.check("POST", "/api/data", await post("reports"));
  assert.equal(body.error.details.upgradeTo, "pro");
  body = await check.check("POST", "/api/data", await post("sso"));
  assert.equal(body.error.code, "invalid_request");
  body = await check.check("GET", "/api/usage", await get("/api/usage"));
  assert.deepEqual(body.features.sso, { enabled: false });
  body = await check.check("GET", "/api/usage", await get("/api/usage?feature=searches"));
  assert.equal(body.feature, "searches");
  await check.check("GET", "/api/usage", await get("/api/usage?feature=reports"));
  body = await check.check("GET", "/api/check", await get("/api/check?feature=exports"));
  assert.equal(body.allowed, false);
  body = await check.check("GET", "/api/check", await get("/api/check?feature=sso"));
  assert.equal(body.usage, undefined);
  await check.check("GET", "/api/check", await get("/api/check"));
  await check.check("GET", "/api/check", await get("/api/check?amount=x"));
});

Deno.test("the founders' API's real answers match the document", async () => {
  await using t = await testApp();
  const doc = await fetchDocument(t);
  const check = new Conformance(doc);
  const token = await t.signIn("user_founder");
  const auth = founderHeaders(token);
  const call = (method: string, path: string, body?: unknown, headers = auth) =>
    t.app.request(path, {
      method,
      headers: { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  await check.check("GET", "/dashboard/api/me", await t.app.request("/dashboard/api/me"));
  let body = await check.check("GET", "/dashboard/api/me", await call("GET", "/dashboard/api/me"));
  assert.equal(body.platform, null);
  await check.check(
    "POST",
    "/dashboard/api/platform",
    await call("POST", "/dashboard/api/platform", {}),
  );

  await payFounder(t.kv, "user_founder");
  body = await check.check(
    "POST",
    "/dashboard/api/platform",
    await call("POST", "/dashboard/api/platform", { name: "Acme" }),
  );
  assert.match(body.apiKey, /^dk_/);
  await check.check(
    "POST",
    "/dashboard/api/platform",
    await call("POST", "/dashboard/api/platform", {}),
  );
  await check.check(
    "POST",
    "/dashboard/api/keys",
    await call("POST", "/dashboard/api/keys", { graceSeconds: 60 }),
  );
  await check.check(
    "POST",
    "/dashboard/api/keys",
    await call("POST", "/dashboard/api/keys", { graceSeconds: -1 }),
  );
  await check.check(
    "PUT",
    "/dashboard/api/tiers",
    await call("PUT", "/dashboard/api/tiers", {
      tiers: [{ id: "free", name: "Free", price: 0, limit: 10 }, {
        id: "pro",
        name: "Pro",
        price: 29,
        limit: 1000,
        period: "day",
      }],
    }),
  );
  body = await check.check(
    "PUT",
    "/dashboard/api/tiers",
    await call("PUT", "/dashboard/api/tiers", { tiers: [{ id: "Bad id", price: -1 }] }),
  );
  assert.ok(body.error.details.length > 0, JSON.stringify(body));
  await check.check(
    "POST",
    "/dashboard/api/stripe",
    await call("POST", "/dashboard/api/stripe", { secretKey: "nope" }),
  );
  await check.check(
    "POST",
    "/dashboard/api/stripe/sync",
    await call("POST", "/dashboard/api/stripe/sync"),
  );
  await check.check(
    "PUT",
    "/dashboard/api/tiers",
    await call(
      "PUT",
      "/dashboard/api/tiers",
      { tiers: [] },
      founderHeaders(token, {
        via: "cookie",
        origin: "https://evil.example",
      }),
    ),
  );
  body = await check.check("GET", "/dashboard/api/me", await call("GET", "/dashboard/api/me"));
  assert.equal(body.platform.tiers.length, 2);
});

Deno.test("the analytics API's real answers match the document (usage, usage.csv, tiers/preview)", async () => {
  await using t = await testApp();
  const doc = await fetchDocument(t);
  const check = new Conformance(doc);
  const founder = await paidFounderWithPlatform(t);
  for (const user of ["u1", "u2", "u2", "u3"]) {
    const res = await t.app.request("/api/data", {
      method: "POST",
      headers: tenantHeaders(founder.apiKey, user),
    });
    assert.equal(res.status, 200, await res.text());
  }
  const get = (path: string) => t.app.request(path, { headers: founder.headers });
  let body = await check.check("GET", "/dashboard/api/usage", await get("/dashboard/api/usage"));
  assert.equal(body.totals.units, 4, JSON.stringify(body));
  assert.equal(body.users[0].userId, "u2");
  body = await check.check(
    "GET",
    "/dashboard/api/usage",
    await get("/dashboard/api/usage?limit=1&q=u"),
  );
  assert.ok(body.next, JSON.stringify(body));
  await check.check("GET", "/dashboard/api/usage", await get("/dashboard/api/usage?period=soon"));
  const csv = await check.check(
    "GET",
    "/dashboard/api/usage.csv",
    await get("/dashboard/api/usage.csv"),
  );
  assert.match(csv, /u2/);
  body = await check.check(
    "POST",
    "/dashboard/api/tiers/preview",
    await t.app.request("/dashboard/api/tiers/preview", {
      method: "POST",
      headers: { ...founder.headers, "content-type": "application/json" },
      body: JSON.stringify({ tiers: [{ id: "free", name: "Free", price: 0, limit: 1 }] }),
    }),
  );
  assert.deepEqual(body.tiers.map((x: Json) => [x.id, x.users, x.overLimit]), [["free", 3, 1]]);
});

Deno.test("the webhooks API's real answers match the document", async () => {
  await using t = await testApp();
  const check = new Conformance(await fetchDocument(t));
  await payFounder(t.kv, "user_hooks_doc");
  await seedPlatform(t.kv, undefined, "Acme", "user_hooks_doc");
  const headers = founderHeaders(await t.signIn("user_hooks_doc"));
  const call = (method: string, path: string, body?: unknown) =>
    t.app.request(path, {
      method,
      headers: { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const hooks = "/dashboard/api/webhooks";
  await check.check("GET", hooks, await call("GET", hooks));
  await check.check("POST", `${hooks}/test`, await call("POST", `${hooks}/test`));
  await check.check("PUT", hooks, await call("PUT", hooks, { url: "ftp://x" }));
  let body = await check.check(
    "PUT",
    hooks,
    await call("PUT", hooks, { url: "http://127.0.0.1:9/h" }),
  );
  assert.match(body.secret, /^whsec_/);
  await check.check(
    "PUT",
    hooks,
    await call("PUT", hooks, { url: "http://127.0.0.1:9/h", events: ["usage.near_limit"] }),
  );
  body = await check.check("POST", `${hooks}/rotate`, await call("POST", `${hooks}/rotate`));
  assert.match(body.secret, /^whsec_/);
  body = await check.check("POST", `${hooks}/test`, await call("POST", `${hooks}/test`));
  assert.match(body.eventId, /^msg_/);
  await check.check("GET", hooks, await call("GET", hooks));
  await check.check("DELETE", hooks, await call("DELETE", hooks));
});
