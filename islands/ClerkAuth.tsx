/**
 * Clerk's browser script, for founders' sign-in and sign-out when `CLERK_PUBLISHABLE_KEY` is
 * set. The script comes from the Clerk Frontend API host encoded in the publishable key; it sets
 * the `__session` cookie our server verifies with jose.
 */
import { useSignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";

export interface ClerkAuthProps {
  publishableKey: string;
  mode: "sign-in" | "sign-out";
  /** Where to go after signing in (or out). */
  redirectUrl: string;
}

interface ClerkGlobal {
  load(options?: Record<string, unknown>): Promise<void>;
  mountSignIn(el: HTMLElement, options?: Record<string, unknown>): void;
  signOut(options?: Record<string, unknown>): Promise<void>;
  user?: unknown;
}

/** `pk_test_<base64("clerk.example.com$")>` → `clerk.example.com`. */
export function frontendApiOf(publishableKey: string): string | null {
  const encoded = publishableKey.split("_")[2];
  if (!encoded) return null;
  try {
    const host = atob(encoded).replace(/\$$/, "");
    return /^[a-z0-9.-]+$/i.test(host) ? host : null;
  } catch {
    return null;
  }
}

function loadClerk(publishableKey: string): Promise<ClerkGlobal> {
  const host = frontendApiOf(publishableKey);
  if (!host) return Promise.reject(new Error("CLERK_PUBLISHABLE_KEY is malformed."));
  const existing = (globalThis as { Clerk?: ClerkGlobal }).Clerk;
  if (existing) return existing.load().then(() => existing);
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = `https://${host}/npm/@clerk/clerk-js@5/dist/clerk.browser.js`;
    script.async = true;
    script.crossOrigin = "anonymous";
    script.dataset.clerkPublishableKey = publishableKey;
    script.onload = async () => {
      const clerk = (globalThis as { Clerk?: ClerkGlobal }).Clerk;
      if (!clerk) return reject(new Error("Clerk did not load."));
      await clerk.load();
      resolve(clerk);
    };
    script.onerror = () => reject(new Error("Could not load Clerk. Check your connection."));
    document.head.append(script);
  });
}

export default function ClerkAuth({ publishableKey, mode, redirectUrl }: ClerkAuthProps) {
  const mount = useRef<HTMLDivElement>(null);
  const error = useSignal<string | null>(null);
  const busy = useSignal(mode === "sign-in");

  useEffect(() => {
    if (mode !== "sign-in") return;
    loadClerk(publishableKey).then((clerk) => {
      busy.value = false;
      if (clerk.user) return location.assign(redirectUrl);
      clerk.mountSignIn(mount.current!, {
        forceRedirectUrl: redirectUrl,
        signUpForceRedirectUrl: redirectUrl,
      });
    }).catch((e: Error) => {
      busy.value = false;
      error.value = e.message;
    });
  }, []);

  async function signOut() {
    busy.value = true;
    try {
      const clerk = await loadClerk(publishableKey);
      await clerk.signOut({ redirectUrl });
    } catch (e) {
      busy.value = false;
      error.value = (e as Error).message;
    }
  }

  if (mode === "sign-out") {
    return (
      <button type="button" class="btn btn-ghost btn-sm" onClick={signOut} disabled={busy.value}>
        Sign out
      </button>
    );
  }
  return (
    <div>
      <div ref={mount} class="clerk-mount" />
      {busy.value && <p class="muted">Loading sign-in…</p>}
      {error.value && <p class="field-error" role="alert">{error.value}</p>}
    </div>
  );
}
