/** The page shell: document head, the top bar with navigation, and the footer. Server-only. */
import type { ComponentChildren } from "preact";
import { useContext } from "preact/hooks";
import ClerkAuth from "../../islands/ClerkAuth.tsx";
import { Island, RenderCtx } from "./island.tsx";

/** The dashboard's sections; each is one click from every dashboard page. */
export type DashboardSection =
  | "overview"
  | "analytics"
  | "tiers"
  | "webhooks"
  | "billing"
  | "settings";

export const DASHBOARD_NAV: ReadonlyArray<{ id: DashboardSection; href: string; label: string }> = [
  { id: "overview", href: "/dashboard", label: "Overview" },
  { id: "analytics", href: "/dashboard/analytics", label: "Analytics" },
  { id: "tiers", href: "/dashboard/tiers", label: "Tiers" },
  { id: "webhooks", href: "/dashboard/webhooks", label: "Webhooks" },
  { id: "billing", href: "/dashboard/billing", label: "Billing" },
  { id: "settings", href: "/dashboard/settings", label: "Settings" },
];

export interface ShellProps {
  title: string;
  description?: string;
  /** Dashboard pages show the section nav and the account menu. */
  dashboard?: { active: DashboardSection | null; user: { id: string; email?: string } };
  /** Width of the main column. */
  width?: "narrow" | "normal" | "wide";
  children: ComponentChildren;
}

/** The full HTML document of a page. */
export function Shell({ title, description, dashboard, width = "normal", children }: ShellProps) {
  const ctx = useContext(RenderCtx);
  const fullTitle = title === "dream-api" ? title : `${title} · dream-api`;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{fullTitle}</title>
        <meta
          name="description"
          content={description ??
            "Usage limits and billing for your SaaS in one API call."}
        />
        <meta name="theme-color" content="#4f46e5" />
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        {ctx && <link rel="stylesheet" href={ctx.stylesHref} />}
      </head>
      <body class={dashboard ? "app" : "site"}>
        <a class="skip-link" href="#main">Skip to content</a>
        <header class="topbar">
          <div class="topbar-inner">
            <a class="brand" href={dashboard ? "/dashboard" : "/"} aria-label="dream-api home">
              <Logo />
              <span>dream-api</span>
            </a>
            {dashboard
              ? <DashboardNav active={dashboard.active} />
              : (
                <nav class="site-nav" aria-label="Site">
                  <a href="/#how">How it works</a>
                  <a href="/#pricing">Pricing</a>
                  <a href="/docs">API docs</a>
                </nav>
              )}
            <div class="topbar-end">
              {dashboard ? <AccountMenu user={dashboard.user} /> : (
                <>
                  <a class="btn btn-ghost btn-sm" href="/dashboard">Sign in</a>
                  <a class="btn btn-primary btn-sm" href="/sign-in">Get started</a>
                </>
              )}
            </div>
          </div>
        </header>
        <main id="main" class={`container container-${width}`}>{children}</main>
        <footer class="footer">
          <div class={`container container-${dashboard ? "normal" : "wide"} footer-inner`}>
            <span>© dream-api</span>
            <span class="muted">Usage limits and billing in one API call.</span>
          </div>
        </footer>
      </body>
    </html>
  );
}

function DashboardNav({ active }: { active: DashboardSection | null }) {
  return (
    <nav class="app-nav" aria-label="Dashboard">
      {DASHBOARD_NAV.map((item) => (
        <a
          href={item.href}
          class={item.id === active ? "is-active" : undefined}
          aria-current={item.id === active ? "page" : undefined}
        >
          {item.label}
        </a>
      ))}
      <a href="/docs">API docs</a>
    </nav>
  );
}

function AccountMenu({ user }: { user: { id: string; email?: string } }) {
  const ctx = useContext(RenderCtx);
  return (
    <div class="account">
      <span class="account-id" title={user.id} data-testid="account-name">
        {user.email ?? user.id}
      </span>
      {ctx?.clerkPublishableKey
        ? (
          <Island
            name="ClerkAuth"
            component={ClerkAuth}
            props={{ publishableKey: ctx.clerkPublishableKey, mode: "sign-out", redirectUrl: "/" }}
          />
        )
        : (
          <form method="post" action="/sign-out">
            <button type="submit" class="btn btn-ghost btn-sm">Sign out</button>
          </form>
        )}
    </div>
  );
}

/** The mark: a gauge filling up, for metered usage. */
export function Logo({ size = 24 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" class="logo">
      <rect width="24" height="24" rx="6" fill="var(--brand)" />
      <path
        d="M6 16a6 6 0 1 1 12 0"
        fill="none"
        stroke="#fff"
        stroke-opacity=".45"
        stroke-width="2.2"
        stroke-linecap="round"
      />
      <path
        d="M6 16a6 6 0 0 1 9.5-4.9"
        fill="none"
        stroke="#fff"
        stroke-width="2.2"
        stroke-linecap="round"
      />
      <circle cx="12" cy="16" r="1.6" fill="#fff" />
    </svg>
  );
}
