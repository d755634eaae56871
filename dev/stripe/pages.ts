/**
 * The hosted pages: Checkout (`/checkout/:id`) and the customer portal (`/portal/:id`), plain
 * server-rendered HTML with real forms, so a browser test clicks "Pay", "Cancel subscription" or
 * "Switch to …" and follows the 303 redirects back to the app.
 */
import { Hono } from "hono";
import type { Ctx } from "./api.ts";
import { StripeApiError } from "./errors.ts";
import { formatPrice, type Price, productName } from "./catalog.ts";
import type { Subscription } from "./subscriptions.ts";
import type { Account, Obj } from "./store.ts";

export function pageRoutes(ctx: Ctx): Hono {
  const { store, billing } = ctx;
  const pages = new Hono();

  /** The session and its account, or null (the pages answer 404 then). */
  const lookup = (object: string, id: string) => {
    const found = store.locate(id);
    return found?.obj.object === object ? found : null;
  };

  pages.get("/checkout/:id", (c) => {
    const found = lookup("checkout.session", c.req.param("id"));
    if (!found) return c.html(notFound("This checkout session does not exist."), 404);
    return c.html(checkoutPage(found.account, found.obj));
  });

  pages.post("/checkout/:id/pay", async (c) => {
    const id = c.req.param("id");
    const found = lookup("checkout.session", id);
    if (!found) return c.html(notFound("This checkout session does not exist."), 404);
    if (found.obj.status === "expired") return c.html(checkoutPage(found.account, found.obj), 410);
    if (found.obj.status === "open") {
      const form = await c.req.parseBody();
      await billing.payCheckout(id, { email: String(form.email ?? "") || undefined });
    }
    // Paid already (a double click, a reload): go where the first payment went.
    return afterPayment(found.obj);
  });

  pages.post("/checkout/:id/cancel", (c) => {
    const found = lookup("checkout.session", c.req.param("id"));
    if (!found) return c.html(notFound("This checkout session does not exist."), 404);
    const url = found.obj.cancel_url;
    return url
      ? c.redirect(String(url), 303)
      : c.html(message("Checkout canceled", "You can close this page."));
  });

  pages.get("/portal/:id", (c) => {
    const found = lookup("billing_portal.session", c.req.param("id"));
    if (!found) return c.html(notFound("This portal session does not exist."), 404);
    return c.html(portalPage(found.account, found.obj, c.req.query("notice")));
  });

  // The portal's actions act only on the session customer's own subscriptions.
  pages.post("/portal/:id/:action{cancel|switch}", async (c) => {
    const id = c.req.param("id");
    const found = lookup("billing_portal.session", id);
    if (!found) return c.html(notFound("This portal session does not exist."), 404);
    const { account, obj: session } = found;
    const form = await c.req.parseBody();
    const sub = account.objects[String(form.subscription)] as Subscription | undefined;
    if (sub?.object !== "subscription" || sub.customer !== session.customer) {
      return c.html(notFound("This subscription does not exist."), 404);
    }
    let notice: string;
    try {
      if (c.req.param("action") === "cancel") {
        await billing.cancel(account, sub);
        notice = "Your subscription has been canceled.";
      } else {
        await billing.changePrice(account, sub, String(form.price));
        notice = "Your plan has been changed.";
      }
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      notice = error.message;
    }
    return c.redirect(`/portal/${id}?notice=${encodeURIComponent(notice)}`, 303);
  });

  pages.post("/portal/:id/return", (c) => {
    const found = lookup("billing_portal.session", c.req.param("id"));
    if (!found) return c.html(notFound("This portal session does not exist."), 404);
    const url = found.obj.return_url;
    return url
      ? c.redirect(String(url), 303)
      : c.html(message("All done", "You can close this page."));
  });

  function afterPayment(session: Obj): Response {
    const url = session.success_url
      ? String(session.success_url).replaceAll("{CHECKOUT_SESSION_ID}", session.id)
      : null;
    if (url) return new Response(null, { status: 303, headers: { Location: url } });
    return new Response(message("Payment complete", "Thanks! You can close this page."), {
      headers: { "Content-Type": "text/html; charset=utf-8" },
    });
  }

  function checkoutPage(account: Account, session: Obj): string {
    const items = account.checkout[session.id].lineItems.map((l) => ({
      price: store.get(account, "price", l.price) as Price,
      quantity: l.quantity,
    }));
    const total = formatPrice({ ...items[0].price, unit_amount: Number(session.amount_total) });
    const customer = session.customer ? account.objects[String(session.customer)] : undefined;
    const email = String(customer?.email ?? session.customer_email ?? "");
    if (session.status !== "open") {
      return message(
        session.status === "complete" ? "Already paid" : "This checkout session has expired",
        session.success_url && session.status === "complete"
          ? `<a class="button" href="${
            h(String(session.success_url).replaceAll("{CHECKOUT_SESSION_ID}", session.id))
          }">Continue</a>`
          : "",
      );
    }
    return layout(
      "Checkout",
      `<p class="merchant">${h(merchant(account))}</p>
      <h1>Subscribe</h1>
      <p class="total" data-testid="total">${h(total)}</p>
      <table>${
        items.map(({ price, quantity }) =>
          `<tr><td>${h(productName(account, price))}${quantity > 1 ? ` × ${quantity}` : ""}</td>
          <td class="amount">${h(formatPrice(price))}</td></tr>`
        ).join("")
      }</table>
      <form method="post" action="/checkout/${h(session.id)}/pay">
        <label>Email <input type="email" name="email" value="${h(email)}" ${
        customer ? "readonly" : ""
      } placeholder="you@example.com"></label>
        <label>Card <input value="4242 4242 4242 4242" disabled></label>
        <p class="hint">Local test mode: no card is charged.</p>
        <button type="submit" id="pay">Pay ${h(total)}</button>
      </form>
      <form method="post" action="/checkout/${h(session.id)}/cancel">
        <button type="submit" class="secondary" id="cancel">Cancel</button>
      </form>`,
    );
  }

  function portalPage(account: Account, session: Obj, notice?: string): string {
    const customer = account.objects[String(session.customer)];
    const subs = Object.values(account.objects).filter((o): o is Subscription =>
      o.object === "subscription" && o.customer === session.customer &&
      (o as Subscription).status !== "canceled"
    );
    const prices = Object.values(account.objects).filter((o): o is Price =>
      o.object === "price" && (o as Price).active && (o as Price).recurring !== null
    );
    const cards = subs.map((sub) => {
      const price = sub.items.data[0]?.price;
      const periodEnd = new Date(Number(sub.current_period_end) * 1000).toISOString().slice(0, 10);
      const others = prices.filter((p) => p.id !== price?.id);
      return `<section class="card" data-subscription="${h(sub.id)}">
        <h2>${h(price ? productName(account, price) : sub.id)}</h2>
        <p class="total">${h(price ? formatPrice(price) : "")}</p>
        <p><span class="badge">${h(sub.status)}</span> ${
        sub.cancel_at_period_end ? `Cancels on ${periodEnd}` : `Renews on ${periodEnd}`
      }</p>
        ${
        others.map((p) =>
          `<form method="post" action="/portal/${h(session.id)}/switch">
            <input type="hidden" name="subscription" value="${h(sub.id)}">
            <input type="hidden" name="price" value="${h(p.id)}">
            <button type="submit" class="secondary">Switch to ${h(productName(account, p))} (${
            h(formatPrice(p))
          })</button></form>`
        ).join("")
      }
        <form method="post" action="/portal/${h(session.id)}/cancel">
          <input type="hidden" name="subscription" value="${h(sub.id)}">
          <button type="submit" class="danger">Cancel subscription</button>
        </form>
      </section>`;
    });
    return layout(
      "Billing",
      `<p class="merchant">${h(merchant(account))}</p>
      <h1>Your subscription</h1>
      <p>${h(String(customer?.email ?? customer?.id ?? ""))}</p>
      ${notice ? `<p class="notice" role="status">${h(notice)}</p>` : ""}
      ${cards.join("") || "<p>No active subscriptions.</p>"}
      <form method="post" action="/portal/${h(session.id)}/return">
        <button type="submit" class="secondary" id="return">Return</button>
      </form>`,
    );
  }

  return pages;
}

/** Who the customer pays: a named (connected) account's name, else its id. */
function merchant(account: Account): string {
  return account.profile ? `${account.profile.display_name} · ${account.id}` : account.id;
}

function message(title: string, body: string): string {
  return layout(title, `<h1>${h(title)}</h1><p>${body}</p>`);
}

function notFound(text: string): string {
  return message("Not found", h(text));
}

/** Escapes text for HTML content and attribute values. */
export function h(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** A hosted page: the local Stripe's look, a test-mode badge, `body` in a card. */
export function layout(title: string, body: string, extraStyle = ""): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)} · Local Stripe</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1a1f36; background: #f6f9fc; }
  body { margin: 0; padding: 2rem 1rem; }
  main { max-width: 26rem; margin: 0 auto; background: #fff; border-radius: 12px;
    padding: 1.75rem; box-shadow: 0 4px 24px rgba(50, 50, 93, .12); }
  .mode { display: inline-block; font-size: .75rem; font-weight: 600; color: #a04c00;
    background: #ffe8cc; border-radius: 4px; padding: .15rem .5rem; }
  .merchant { color: #697386; font-size: .85rem; margin: .75rem 0 0; }
  h1 { font-size: 1.4rem; margin: .25rem 0 .5rem; } h2 { font-size: 1.1rem; margin: 0; }
  .total { font-size: 1.6rem; font-weight: 600; margin: .25rem 0 1rem; }
  table { width: 100%; border-collapse: collapse; margin-bottom: 1.25rem; }
  td { padding: .5rem 0; border-top: 1px solid #e3e8ee; } .amount { text-align: right; }
  label { display: block; font-size: .85rem; color: #3c4257; margin-bottom: .75rem; }
  input { display: block; width: 100%; box-sizing: border-box; margin-top: .25rem;
    padding: .6rem .7rem; border: 1px solid #cfd7df; border-radius: 6px; font: inherit; }
  button, .button { display: block; width: 100%; box-sizing: border-box; margin-top: .75rem;
    padding: .75rem; border: 0; border-radius: 6px; font: inherit; font-weight: 600;
    text-align: center; text-decoration: none; cursor: pointer; background: #635bff; color: #fff; }
  button.secondary { background: #fff; color: #3c4257; border: 1px solid #cfd7df; }
  button.danger { background: #fff; color: #df1b41; border: 1px solid #df1b41; }
  .card { border: 1px solid #e3e8ee; border-radius: 8px; padding: 1rem; margin: 1rem 0; }
  .badge { font-size: .75rem; font-weight: 600; background: #d7f7c2; color: #05690d;
    border-radius: 4px; padding: .1rem .4rem; }
  .notice { background: #eef4ff; border-radius: 6px; padding: .6rem .75rem; }
  .hint { color: #697386; font-size: .8rem; }
${extraStyle}
</style>
</head>
<body><main><span class="mode">Local Stripe · test mode</span>
${body}
</main></body>
</html>`;
}
