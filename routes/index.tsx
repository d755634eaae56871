/** GET / — the marketing page: what dream-api does, the call in three lines, the price. */
import { define, defineRoute } from "../lib/http/route.ts";
import { Card, CodeBlock } from "../lib/ui/components.tsx";
import { Shell } from "../lib/ui/layout.tsx";
import { renderPage } from "../lib/ui/render.tsx";

const GET = define.handler((c) => {
  const base = c.get("deps").config.publicUrl;
  return renderPage(c, <MarketingPage baseUrl={base} />, { cache: "public" });
});

export const route = defineRoute({
  path: "/",
  auth: "public",
  methods: { GET: { handler: GET } },
});

const FEATURES = [
  {
    icon: "M4 20V10M10 20V4M16 20v-7M22 20H2",
    title: "Exact usage counting",
    text:
      "Every call is counted atomically per end-user and period. No drift between servers, no double counting on retries with an Idempotency-Key.",
  },
  {
    icon: "M12 3a9 9 0 1 0 9 9M12 12l5-5M12 12h.01",
    title: "Limits per plan",
    text:
      "Define Free, Pro and Unlimited tiers with monthly or daily limits. Over the limit, the call answers 429 with Retry-After and RateLimit headers.",
  },
  {
    icon: "M12 2v20M17 6H9.5a3.5 3.5 0 0 0 0 7h5a3.5 3.5 0 0 1 0 7H6",
    title: "Upgrades through your Stripe",
    text:
      "Connect your own Stripe account: dream-api creates the products and prices, opens checkout for your users and moves them between tiers.",
  },
  {
    icon: "M13 2 4 14h7l-1 8 9-12h-7z",
    title: "One call on the hot path",
    text:
      "A single POST both checks and counts. Answers carry the count, the limit and what remains, so your UI can show it without a second request.",
  },
  {
    icon: "M3 3h8v8H3zM13 3h8v5h-8zM13 10h8v11h-8zM3 13h8v8H3z",
    title: "A dashboard, not a project",
    text:
      "Edit tiers, roll API keys with a grace period and see who uses what. Live in minutes instead of a sprint of billing plumbing.",
  },
  {
    icon: "M5 11h14v10H5zM8 11V7a4 4 0 0 1 8 0v4",
    title: "Secrets stay secret",
    text:
      "API keys are stored as hashes, your Stripe key encrypted with AES-256-GCM. Neither is ever shown again after you enter it.",
  },
];

export function MarketingPage({ baseUrl }: { baseUrl: string }) {
  const call = `curl -X POST ${baseUrl}/api/data \\
  -H "Authorization: Bearer dk_live_…" \\
  -H "X-User-Id: user_42"`;
  const answer = `{
  "success": true,
  "usage": { "count": 42, "limit": 100, "remaining": 58 },
  "plan": "free",
  "planSource": "default",
  "period": {
    "start": "2026-11-01T00:00:00.000Z",
    "end": "2026-12-01T00:00:00.000Z"
  }
}`;
  return (
    <Shell title="dream-api" width="wide">
      <section class="hero">
        <div>
          <span class="eyebrow">Usage limits and billing API</span>
          <h1>Meter, limit and bill your SaaS in one API call.</h1>
          <p class="lead">
            dream-api counts what each of your users does, enforces their plan's limit exactly, and
            sells upgrades through your own Stripe account. You write one line of code, not a
            billing system.
          </p>
          <div class="hero-actions">
            <a class="btn btn-primary btn-lg" href="/sign-in">Start for $29/month</a>
            <a class="btn btn-secondary btn-lg" href="#how">See the API</a>
          </div>
        </div>
        <div class="stack-sm">
          <CodeBlock code={call} label="Count a call" />
          <CodeBlock code={answer} label="200 OK" language="json" />
        </div>
      </section>

      <section class="section" id="how">
        <div class="section-head">
          <span class="eyebrow">How it works</span>
          <h2>Everything metered pricing needs</h2>
          <p>
            Subscribe, create your platform to get an API key, define your tiers. Then call{" "}
            <code>/api/data</code>{" "}
            from your backend whenever a user does something you charge for. Every call, header and
            error code is in the <a href="/docs">API reference</a>.
          </p>
        </div>
        <div class="features">
          {FEATURES.map((f) => (
            <div class="feature">
              <div class="feature-icon" aria-hidden="true">
                <svg viewBox="0 0 24 24">
                  <path d={f.icon} />
                </svg>
              </div>
              <h3>{f.title}</h3>
              <p>{f.text}</p>
            </div>
          ))}
        </div>
      </section>

      <section class="section" id="pricing">
        <div class="section-head">
          <span class="eyebrow">Pricing</span>
          <h2>One plan. Everything included.</h2>
          <p>No per-call fees from us. Your end-users pay you through your own Stripe.</p>
        </div>
        <div class="pricing">
          <Card class="card-highlight">
            <div class="price">
              $29<small>/month</small>
            </div>
            <ul class="checklist">
              <li>Unlimited tenant API calls and end-users</li>
              <li>Up to 20 pricing tiers, monthly or daily limits</li>
              <li>Stripe products, prices and checkout for your end-users</li>
              <li>Key rotation with a grace period</li>
            </ul>
            <a class="btn btn-primary btn-block btn-lg" href="/sign-in">Create your account</a>
          </Card>
          <dl class="faq">
            <dt>Do my end-users pay dream-api?</dt>
            <dd>
              No. They pay you, through your own Stripe account. dream-api only counts their usage
              and enforces the limits of the tier they bought.
            </dd>
            <dt>What happens when a user hits the limit?</dt>
            <dd>
              The call answers 429 with the count, the limit and Retry-After, and counts nothing.
              Your product shows an upgrade button; the next period starts fresh.
            </dd>
            <dt>Can I try it with Stripe test mode?</dt>
            <dd>
              Yes. Connect an <code>sk_test_</code>{" "}
              key and everything runs against Stripe's test mode until you switch to a live key.
            </dd>
          </dl>
        </div>
      </section>
    </Shell>
  );
}
