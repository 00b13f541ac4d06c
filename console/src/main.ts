// The webhook console: sign in, pick a site, watch its webhooks and deliveries live (Firestore
// onSnapshot under firestore.rules), act through the callables. Routes (hash):
//   #/sites/{siteId}                      the site's webhooks
//   #/sites/{siteId}/webhooks/{webhookId} one webhook: state, actions, 24 h chart, delivery log
// Served at exactly /embed the same routes render without the header, for an iframe in a host
// dashboard; there, every button that changes something asks first (a framing page could hide
// the console under its own and steer a click).
import { onAuthStateChanged, signInWithEmailAndPassword, signOut, type User } from "firebase/auth";
import { collection, doc, getDoc, getDocs } from "firebase/firestore";
import { siteHref, type Cleanup, type Ctx, type Site } from "./context";
import { badge, field, fill, h } from "./dom";
import { connect, type Services } from "./firebase";
import { canAct, errorText, isEmbedPath, type Profile } from "./model";
import { sitePage } from "./webhooks";
import { webhookPage } from "./webhook";
import "./style.css";

// Set by start(): importing this module renders nothing.
let root: HTMLElement;
let embedded = false;

function route(): { siteId?: string; webhookId?: string } {
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { ...(parts[0] === "sites" && parts[1] ? { siteId: parts[1] } : {}), ...(parts[2] === "webhooks" && parts[3] ? { webhookId: parts[3] } : {}) };
}

function signInView(svc: Services): void {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const error = h("p", { role: "alert", class: "error" });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    {
      class: "card signin",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        submit.disabled = true;
        error.textContent = "";
        try {
          await signInWithEmailAndPassword(svc.auth, email.value.trim(), password.value);
        } catch (err) {
          const code = (err as { code?: string }).code ?? "";
          error.textContent = /invalid-credential|wrong-password|user-not-found|invalid-email/.test(code) ? "Wrong email or password." : errorText(err);
          submit.disabled = false;
        }
      },
    },
    h("h1", {}, "Owlette webhooks"),
    h("p", {}, "Sign in with your dashboard account."),
    field("Email", email),
    field("Password", password),
    error,
    submit,
    svc.emulated ? h("p", { class: "hint" }, "Local suite: `npm start` prints a demo admin and member sign-in.") : null,
  );
  fill(root, h("main", { class: "centered" }, form));
  email.focus();
}

async function loadProfile(svc: Services, user: User): Promise<Profile | null> {
  const snap = await getDoc(doc(svc.db, "users", user.uid));
  if (!snap.exists()) return null;
  const d = snap.data();
  return { role: typeof d.role === "string" ? d.role : "", sites: Array.isArray(d.sites) ? d.sites.filter((s): s is string => typeof s === "string") : [] };
}

async function loadSites(svc: Services, profile: Profile | null): Promise<Site[]> {
  if (!profile) return [];
  const toSite = (id: string, d: Record<string, unknown> | undefined): Site => ({
    id,
    name: typeof d?.name === "string" ? d.name : id,
    owner: typeof d?.owner === "string" ? d.owner : null,
  });
  if (profile.role === "superadmin") return (await getDocs(collection(svc.db, "sites"))).docs.map((s) => toSite(s.id, s.data()));
  const sites = await Promise.all(
    profile.sites.map(async (id) => {
      try {
        const snap = await getDoc(doc(svc.db, "sites", id));
        return toSite(id, snap.data());
      } catch {
        return toSite(id, undefined);
      }
    }),
  );
  return sites;
}

/** Ends the shown view's live reads (on navigation, and when the user signs out). */
let stopView: Cleanup = () => {};

async function signedIn(svc: Services, user: User): Promise<void> {
  fill(root, h("p", { class: "centered" }, "Loading…"));
  let profile: Profile | null = null;
  let sites: Site[] = [];
  try {
    profile = await loadProfile(svc, user);
    sites = await loadSites(svc, profile);
  } catch (err) {
    fill(root, h("main", { class: "centered" }, h("p", { role: "alert", class: "error" }, errorText(err))));
    return;
  }
  const main = h("main", { id: "main" });
  const siteSelect = h(
    "select",
    { name: "site", onchange: () => (location.hash = siteHref(siteSelect.value)) },
    sites.map((s) => h("option", { value: s.id }, s.name)),
  );
  const header = embedded
    ? null
    : h(
        "header",
        { class: "chrome" },
        h("a", { class: "brand", href: sites[0] ? siteHref(sites[0].id) : "#" }, "Owlette webhooks"),
        sites.length > 1 ? field("Site", siteSelect) : null,
        h("span", { class: "who" }, user.email ?? user.uid, " ", profile ? badge(profile.role, profile.role === "member" ? "muted" : "ok", "your role") : null),
        h("button", { type: "button", onclick: () => void signOut(svc.auth) }, "Sign out"),
      );
  fill(root, header, main);

  const render = () => {
    stopView();
    stopView = () => {};
    const { siteId, webhookId } = route();
    if (!siteId) {
      if (sites[0]) {
        location.replace(siteHref(sites[0].id));
        return;
      }
      fill(main, h("section", { class: "card" }, h("h1", {}, "No sites"), h("p", {}, "Your account has no access to any site. Ask a site admin to add you.")));
      return;
    }
    const known = sites.find((s) => s.id === siteId);
    const site: Site = known ?? { id: siteId, name: siteId, owner: null };
    siteSelect.value = siteId;
    const ctx: Ctx = { svc, user, profile, site, admin: canAct(profile, user.uid, site), embedded };
    stopView = webhookId ? webhookPage(main, ctx, webhookId) : sitePage(main, ctx);
  };
  window.onhashchange = render;
  render();
}

/** Starts the console in the page's `#app` (boot.ts calls it). */
export async function start(): Promise<void> {
  root = document.getElementById("app") as HTMLElement;
  embedded = isEmbedPath(location.pathname);
  document.body.classList.toggle("embedded", embedded);
  let svc: Services;
  try {
    svc = await connect();
  } catch (err) {
    fill(root, h("main", { class: "centered" }, h("p", { role: "alert", class: "error" }, errorText(err))));
    return;
  }
  onAuthStateChanged(svc.auth, (user) => {
    window.onhashchange = null;
    stopView();
    stopView = () => {};
    if (user) void signedIn(svc, user);
    else signInView(svc);
  });
}
