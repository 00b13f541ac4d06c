// One webhook, live: its state and health, the admin's actions, the last 24 hours, the delivery log.
import { collection, doc, limit, onSnapshot, orderBy, query, where, Timestamp, type QueryConstraint } from "firebase/firestore";
import { badge, field, fill, h, modal, type Child } from "./dom";
import { siteHref, type Cleanup, type Ctx } from "./context";
import {
  DELIVERY_STATUSES,
  deliveryTone,
  deliveryView,
  errorText,
  lastDayByHour,
  relativeTime,
  statusText,
  statusTone,
  webhookState,
  foreignWriteNotice,
  webhookView,
  type DeliveryView,
  type HourBucket,
  type WebhookView,
} from "./model";
import { editWebhook, failMeter, noAccess, onServerSnapshot, showSecret, watchNewestDelivery } from "./webhooks";
import { askFirst } from "./ask-first";
import { recoverDialog } from "./recover";

const PAGE = 25;

type Call = <T>(name: string, extra?: Record<string, unknown>) => Promise<T>;
type Say = (text: string, isError?: boolean) => void;
type Act = (button: HTMLButtonElement | null, work: () => Promise<string | void>) => Promise<void>;

export function webhookPage(main: HTMLElement, ctx: Ctx, webhookId: string): Cleanup {
  const summary = h("section", { class: "card", "aria-busy": "true" }, "Loading…");
  const status = h("p", { role: "status", class: "status" });
  const chart = h("figure", { class: "card chart" }, h("figcaption", {}, "Last 24 hours"));
  const log = h("section", { class: "card" });
  fill(main, h("p", { class: "crumbs" }, h("a", { href: siteHref(ctx.site.id) }, `← Webhooks · ${ctx.site.name}`)), summary, status, chart, log);

  const { say, act } = statusLine(status);
  const call: Call = (name, extra = {}) => ctx.svc.call(name, { siteId: ctx.site.id, webhookId, ...extra });
  let newestMs: number | null = null;
  const unsubscribes: Cleanup[] = [
    onSnapshot(
      doc(ctx.svc.db, "sites", ctx.site.id, "webhooks", webhookId),
      (snap) => {
        if (!snap.exists()) return fill(summary, h("h1", {}, "Webhook not found"), h("p", {}, "It may have been deleted."));
        const w = webhookView(snap.id, snap.data());
        summary.removeAttribute("aria-busy");
        fill(summary, ...summaryOf(w, newestMs), ctx.admin ? webhookActions(ctx, w, { call, say, act, alive: () => status.isConnected }) : null);
      },
      (err) => fill(summary, h("p", { role: "alert", class: "error" }, noAccess(err))),
    ),
    watchNewestDelivery(ctx, webhookId, (atMs) => {
      newestMs = atMs;
      const el = summary.querySelector("[data-last-delivery]");
      if (el) el.textContent = relativeTime(atMs, Date.now());
    }),
    chartOf(ctx, webhookId, chart),
    deliveryLog(ctx, webhookId, log, act),
  ];
  return () => unsubscribes.forEach((u) => u());
}

/** The page's status line: `say` writes it; `act` runs a callable for a button, disabled while it runs, its outcome said. */
function statusLine(status: HTMLElement): { say: Say; act: Act } {
  const say: Say = (text, isError = false) => {
    status.textContent = text;
    status.classList.toggle("error", isError);
  };
  const act: Act = async (button, work) => {
    if (button) button.disabled = true;
    say("Working…");
    try {
      const text = await work();
      say(text ?? "Done.");
    } catch (err) {
      say(errorText(err), true);
    } finally {
      if (button) button.disabled = false;
    }
  };
  return { say, act };
}

/** The webhook's heading, state, notice and facts. */
function summaryOf(w: WebhookView, newestMs: number | null): Child[] {
  const state = webhookState(w);
  const notice = foreignWriteNotice(w);
  return [
    h("div", { class: "heading" }, h("h1", {}, w.name), badge(state.label, state.tone, state.detail)),
    h("p", { class: "hint" }, state.detail),
    notice ? h("p", { class: "notice", role: "status", "data-foreign-write": "" }, notice) : null,
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "URL"),
      h("dd", {}, h("code", {}, w.url)),
      h("dt", {}, "Events"),
      h("dd", {}, w.events.join(", ") || "none"),
      h("dt", {}, "Health"),
      h("dd", {}, failMeter(w)),
      h("dt", {}, "Last status"),
      h("dd", {}, badge(statusText(w.lastStatus), statusTone(w.lastStatus))),
      h("dt", {}, "Last delivery"),
      h("dd", { "data-last-delivery": "" }, relativeTime(newestMs, Date.now())),
      h("dt", {}, "Signing"),
      h("dd", {}, `${w.signatureScheme} · ${w.method} · ${w.format}${w.headerNames.length ? ` · headers: ${w.headerNames.join(", ")}` : ""}`),
      w.description ? [h("dt", {}, "Description"), h("dd", {}, w.description)] : null,
    ),
  ];
}

/** An admin's buttons on one webhook. */
function webhookActions(ctx: Ctx, w: WebhookView, { call, say, act, alive }: { call: Call; say: Say; act: Act; alive: () => boolean }): HTMLElement {
  const button = (label: string, onclick: (b: HTMLButtonElement) => void, cls = "") => {
    const b = h("button", { type: "button", class: cls }, label);
    b.addEventListener("click", () => onclick(b));
    return b;
  };
  /** A button that runs one callable on this webhook and says `done`; embedded, it asks first. */
  const simple = (label: string, callable: string, done: string) =>
    button(label, (b) => void askFirst(ctx, `${label} ${w.name}?`, label, () => act(b, () => call(callable).then(() => done))));
  const sendTest = async () => {
    const r = await call<{ result: { status: number | null; error: string | null; durationMs: number | null } }>("testWebhook");
    return `Test sent: ${statusText(r.result.status, r.result.error)}${r.result.durationMs !== null ? ` in ${r.result.durationMs} ms` : ""}.`;
  };
  return h(
    "div",
    { class: "actions", role: "group", "aria-label": "Webhook actions" },
    button("Send test", (b) => void askFirst(ctx, `Send a test event to ${w.name}?`, "Send test", () => act(b, sendTest))),
    w.enabled
      ? simple("Pause", "pauseWebhook", "Paused: events are not delivered until resumed.")
      : w.disabledReason === "paused"
        ? simple("Resume", "resumeWebhook", "Resumed.")
        : simple("Enable", "enableWebhook", "Enabled; the failure count starts again at 0."),
    w.enabled ? simple("Disable", "disableWebhook", "Disabled.") : null,
    w.enabled ? button("Re-send since…", () => void recoverDialog(ctx, w, say, alive)) : null,
    button("Edit", () => void editWebhook(ctx, w).then(() => say(""))),
    button("Rotate secret", () => void rotate(w, call, say)),
    button("Delete", () => void remove(ctx, w, call, say), "danger"),
  );
}

async function rotate(w: WebhookView, call: Call, say: Say) {
  const overlap = await modal<number>(`Rotate the secret of ${w.name}`, (close) => {
    const select = h(
      "select",
      { name: "overlap" },
      [
        [0, "no overlap: only the new secret"],
        [3600, "1 hour"],
        [86400, "24 hours"],
        [604800, "7 days"],
      ].map(([v, label]) => h("option", { value: v, selected: v === 86400 }, label)),
    );
    return [
      h("p", {}, "Deliveries are signed with both secrets during the overlap, so receivers can switch without missing one."),
      field("Old secret keeps working for", select),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: () => close(Number(select.value)) }, "Rotate"),
        h("button", { type: "button", onclick: () => close() }, "Cancel"),
      ),
    ];
  });
  if (overlap === undefined) return;
  try {
    const r = await call<{ secret: string; previousSecretExpiresAt: string | null }>("rotateWebhookSecret", { overlapSeconds: overlap });
    say(r.previousSecretExpiresAt ? `Rotated; the old secret works until ${new Date(r.previousSecretExpiresAt).toLocaleString()}.` : "Rotated.");
    await showSecret(r.secret, "The new secret signs every delivery from now on.");
  } catch (err) {
    say(errorText(err), true);
  }
}

async function remove(ctx: Ctx, w: WebhookView, call: Call, say: Say) {
  const sure = await modal<boolean>(`Delete ${w.name}?`, (close) => [
    h("p", {}, "Its pending deliveries are skipped and it stops receiving events. This cannot be undone."),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "danger", onclick: () => close(true) }, "Delete webhook"),
      h("button", { type: "button", onclick: () => close(false), autofocus: true }, "Cancel"),
    ),
  ]);
  if (!sure) return;
  try {
    await call("deleteWebhook");
    location.hash = siteHref(ctx.site.id);
  } catch (err) {
    say(errorText(err), true);
  }
}

function deliveryLog(ctx: Ctx, webhookId: string, section: HTMLElement, act: Act): Cleanup {
  let pages = 1;
  let filter = "";
  let unsubscribe: Cleanup = () => {};
  const open = new Set<string>();
  const filterSelect = h(
    "select",
    { name: "status", onchange: () => ((filter = filterSelect.value), (pages = 1), subscribe()) },
    h("option", { value: "" }, "all"),
    DELIVERY_STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const list = h("div", { class: "deliveries", "aria-busy": "true" });
  const more = h("button", { type: "button", hidden: true, onclick: () => ((pages += 1), subscribe()) }, "Load older deliveries");
  fill(section, h("div", { class: "heading" }, h("h2", {}, "Deliveries"), field("Status", filterSelect)), list, more);
  const retry = (d: DeliveryView) => (ctx.admin && (d.status === "failed" || d.status === "pending") ? retryButton(ctx, webhookId, d.id, act) : null);

  const subscribe = () => {
    unsubscribe();
    const constraints: QueryConstraint[] = [...(filter ? [where("status", "==", filter)] : []), orderBy("createdAt", "desc"), limit(PAGE * pages)];
    unsubscribe = onServerSnapshot(
      query(collection(ctx.svc.db, "sites", ctx.site.id, "webhooks", webhookId, "deliveries"), ...constraints),
      (snap) => {
        list.removeAttribute("aria-busy");
        const now = Date.now();
        const rows = snap.docs.map((d) => deliveryView(d.id, d.data()));
        fill(
          list,
          rows.length
            ? rows.map((d) => deliveryRow(d, now, open, retry(d)))
            : h("p", { class: "hint" }, filter ? `No ${filter} deliveries.` : "No deliveries yet."),
        );
        more.hidden = snap.size < PAGE * pages;
      },
      (err) => fill(list, h("p", { role: "alert", class: "error" }, noAccess(err))),
    );
  };
  subscribe();
  return () => unsubscribe();
}

/** One delivery of the log, folded; `open` remembers the ones unfolded across live updates. */
function deliveryRow(d: DeliveryView, now: number, open: Set<string>, retry: HTMLElement | null): HTMLElement {
  const last = d.attempts[d.attempts.length - 1];
  const details = h(
    "details",
    { class: "delivery", "data-delivery": d.id, "data-status": d.status, open: open.has(d.id) },
    h(
      "summary",
      {},
      h("span", { class: "when" }, d.createdAtMs ? new Date(d.createdAtMs).toLocaleString() : "—"),
      h("span", { class: "type" }, d.eventType),
      badge(d.status, deliveryTone(d.status), d.skippedReason ?? undefined),
      h("span", {}, `${d.attempts.length} attempt${d.attempts.length === 1 ? "" : "s"}`),
      last ? badge(statusText(last.status, last.error), statusTone(last.status ?? last.error)) : null,
      d.status === "pending" && d.nextAttemptAtMs ? h("span", { class: "hint" }, `attempt ${d.nextAttempt} ${relativeTime(d.nextAttemptAtMs, now)}`) : null,
    ),
    attemptsTable(d),
    d.skippedReason ? h("p", { class: "hint" }, `Skipped: ${d.skippedReason.replace(/_/g, " ")}`) : null,
    retry,
  );
  details.addEventListener("toggle", () => (details.open ? open.add(d.id) : open.delete(d.id)));
  return details;
}

function attemptsTable(d: DeliveryView): HTMLElement {
  return h(
    "table",
    { class: "attempts" },
    h("caption", {}, `Attempts of ${d.id} (event ${d.eventId})`),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["#", "Time", "HTTP", "Round trip", "Error / response"].map((t) => h("th", { scope: "col" }, t)),
      ),
    ),
    h(
      "tbody",
      {},
      d.attempts.map((a) =>
        h(
          "tr",
          {},
          h("td", {}, `${a.attempt}${a.manual ? " (manual)" : ""}`),
          h("td", {}, a.atMs ? new Date(a.atMs).toLocaleTimeString() : "—"),
          h("td", {}, statusText(a.status, a.error)),
          h("td", {}, a.durationMs !== null ? `${a.durationMs} ms` : "—"),
          h("td", { class: "snippet" }, a.error ?? a.responseSnippet ?? ""),
        ),
      ),
    ),
  );
}

function retryButton(ctx: Ctx, webhookId: string, deliveryId: string, act: Act): HTMLElement {
  const retryNow = async () => {
    const r = await ctx.svc.call<{ result: { status: number | null; error: string | null; attempt: number } }>("retryDelivery", {
      siteId: ctx.site.id,
      webhookId,
      deliveryId,
    });
    return `Retried as attempt ${r.result.attempt}: ${statusText(r.result.status, r.result.error)}.`;
  };
  return h(
    "button",
    {
      type: "button",
      onclick: (e: Event) => {
        const b = e.currentTarget as HTMLButtonElement;
        void askFirst(ctx, "Retry this delivery now?", "Retry now", () => act(b, retryNow));
      },
    },
    "Retry now",
  );
}

function chartOf(ctx: Ctx, webhookId: string, figure: HTMLElement): Cleanup {
  const since = Timestamp.fromMillis(Date.now() - 24 * 3_600_000);
  const q = query(
    collection(ctx.svc.db, "sites", ctx.site.id, "webhooks", webhookId, "deliveries"),
    where("createdAt", ">=", since),
    orderBy("createdAt", "desc"),
    limit(1000),
  );
  return onServerSnapshot(
    q,
    (snap) => {
      const buckets = lastDayByHour(
        snap.docs.map((d) => deliveryView(d.id, d.data())),
        Date.now(),
      );
      fill(figure, drawChart(buckets));
    },
    (err) => fill(figure, h("p", { role: "alert", class: "error" }, noAccess(err))),
  );
}

function drawChart(buckets: HourBucket[]): Node[] {
  const totals = { succeeded: 0, failed: 0, pending: 0, skipped: 0 };
  for (const b of buckets) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += b[k];
  const latencies = buckets.map((b) => b.medianMs).filter((m): m is number => m !== null);
  const worstMedian = latencies.length ? Math.max(...latencies) : null;
  const W = 480;
  const H = 120;
  const barW = W / buckets.length;
  const maxCount = Math.max(1, ...buckets.map((b) => b.succeeded + b.failed + b.pending + b.skipped));
  const maxMs = Math.max(1, ...latencies);
  const svgNs = "http://www.w3.org/2000/svg";
  const el = (tag: string, attrs: Record<string, string | number>) => {
    const e = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  };
  const summary = `Last 24 hours: ${totals.succeeded} succeeded, ${totals.failed} failed, ${totals.pending} pending, ${totals.skipped} skipped; slowest hourly median round trip ${worstMedian ?? "—"} ms`;
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": summary, preserveAspectRatio: "none", class: "bars" });
  buckets.forEach((b, i) => {
    let y = H;
    for (const k of ["succeeded", "failed", "pending", "skipped"] as const) {
      if (!b[k]) continue;
      const hgt = (b[k] / maxCount) * (H - 8);
      y -= hgt;
      const rect = el("rect", { x: i * barW + 1, y, width: barW - 2, height: hgt, fill: `var(--${deliveryTone(k)})` });
      const title = el("title", {});
      title.textContent = `${new Date(b.startMs).getHours()}:00 · ${b[k]} ${k}`;
      rect.append(title);
      svg.append(rect);
    }
  });
  const points = buckets
    .map((b, i) => (b.medianMs === null ? null : `${i * barW + barW / 2},${H - (b.medianMs / maxMs) * (H - 8)}`))
    .filter((p): p is string => p !== null);
  if (points.length > 1)
    svg.append(el("polyline", { points: points.join(" "), fill: "none", stroke: "var(--fg)", "stroke-width": 1.5, "stroke-dasharray": "4 2" }));
  for (const p of points) {
    const [x, y] = p.split(",");
    svg.append(el("circle", { cx: x as string, cy: y as string, r: 2.5, fill: "var(--fg)", "vector-effect": "non-scaling-stroke" }));
  }
  return [
    h("figcaption", {}, h("strong", {}, "Last 24 hours"), " deliveries by outcome (bars, per hour) and median attempt round trip (line)"),
    svg,
    h("p", { class: "axis", "aria-hidden": "true" }, h("span", {}, "24 h ago"), h("span", {}, "now")),
    h(
      "p",
      { class: "legend" },
      (Object.keys(totals) as (keyof typeof totals)[]).map((k) => h("span", {}, h("i", { class: `swatch ${deliveryTone(k)}` }), ` ${totals[k]} ${k}`)),
      h("span", {}, `median round trip up to ${worstMedian ?? "—"} ms (max ${Math.round(maxMs)} ms on the scale)`),
    ),
  ];
}
