import { existsSync, mkdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { getAuth } from "firebase-admin/auth";
import { chromium, type Browser, type Page } from "playwright-core";
import { paths } from "../../src/data/paths";
import type { Store } from "../../src/data/store";
import { suiteAgent } from "../../../scripts/lib/agent-auth";
import { crashProcess } from "../../../scripts/lib/agents";
import type { Receiver } from "../../../scripts/lib/receiver";
import { call, idToken } from "../support/api-client";
import { sleep, startSuite, uniqueId, waitFor } from "../support/emulator";

// The webhook console (console/), served by the suite's Hosting emulator, in a real browser:
// Debian's Chromium (package `chromium`, installed by .ci/run), driven by playwright-core.

jest.setTimeout(120_000);

const SCREENSHOTS = join(__dirname, "..", "..", "..", ".cache", "screenshots");
const PASSWORD = "console-test-password";

/** Debian's Chromium, found on PATH (CHROMIUM_PATH overrides). */
function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    for (const name of ["chromium", "chromium-browser"]) if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error("Chromium not found: install Debian's chromium package (apt-get install chromium), or set CHROMIUM_PATH");
}

let store: Store;
let receiver: Receiver;
let browser: Browser;
const origin = () => {
  const o = process.env.CONSOLE_ORIGIN;
  if (!o) throw new Error("CONSOLE_ORIGIN is not set: run through `npm run test:emulator`");
  return o;
};

beforeAll(async () => {
  ({ store, receiver } = await startSuite());
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    // As root in CI there is no sandbox; the rest keep Chromium off the (closed) network.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await receiver.stop();
});

/** A crash webhook an admin made through the callable, its receiver path answering `answer()`. */
async function hookAnswering(siteId: string, admin: string, name: string, path: string, answer: () => number): Promise<{ webhookId: string; secret: string }> {
  const created = await call("createWebhook", { siteId, name, url: receiver.url(path), events: ["process.crashed"] }, await idToken(admin));
  receiver.register(path, created.body.result.secret, () => answer());
  return { webhookId: created.body.result.webhook.id as string, secret: created.body.result.secret as string };
}

/** A site with an admin and a member who sign in with email and password (Auth emulator users), and a stranger. */
async function siteWithPeople() {
  const siteId = uniqueId("site");
  const people = { admin: `admin-${siteId}`, member: `member-${siteId}`, stranger: `stranger-${siteId}` };
  await store.db.doc(paths.site(siteId)).set({ name: "Console Gallery", owner: people.admin });
  await store.db.doc(paths.user(people.admin)).set({ role: "admin", sites: [siteId] });
  await store.db.doc(paths.user(people.member)).set({ role: "member", sites: [siteId] });
  const email = (uid: string) => `${uid}@console.test`;
  for (const uid of Object.values(people)) await getAuth().createUser({ uid, email: email(uid), password: PASSWORD });
  return { siteId, people, email };
}

async function signIn(email: string, viewport = { width: 1100, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  // The Content-Security-Policy (firebase.json) must not block anything the console does.
  page.on("console", (m) => void (m.type() === "error" && /Content Security Policy/i.test(m.text()) && problems.push(m.text())));
  const response = await page.goto(`${origin()}/`);
  expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  (page as Page & { problems?: string[] }).problems = problems;
  return page;
}

/** Every control has a name a screen reader can say (its label, aria-label or text). */
async function unnamedControls(page: Page): Promise<string[]> {
  // (Runs in the page: elements typed loosely, the test code has no DOM types.)
  return page.locator("button, input, select, textarea, a[href]").evaluateAll((els: any[]) =>
    els
      .filter((el) => {
        const named = (el.labels?.length ?? 0) > 0 || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || (el.textContent ?? "").trim();
        return !named && el.type !== "hidden";
      })
      .map((el) => String(el.outerHTML).slice(0, 80)),
  );
}

describe("the webhook console in a browser", () => {
  it("an admin creates a webhook, sees its secret once, and watches a crash's delivery arrive live with its attempt", async () => {
    const { siteId, people, email } = await siteWithPeople();
    const page = await signIn(email(people.admin));
    await page.getByText("No webhooks yet.").waitFor();

    // Keyboard: the form opens from the keyboard and Esc closes it.
    await page.getByRole("button", { name: "New webhook" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog", { name: "New webhook" }).waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "detached" });

    const path = `/console/${siteId}`;
    await page.getByRole("button", { name: "New webhook" }).click();
    const form = page.getByRole("dialog", { name: "New webhook" });
    await form.getByLabel("Name", { exact: true }).fill("Ops receiver");
    await form.getByLabel("URL", { exact: true }).fill(receiver.url(path));
    for (const other of ["process.start_failed", "machine.offline", "machine.online", "connection_failure", "webhook.disabled"])
      await form.getByLabel(other).uncheck();
    expect(await unnamedControls(page)).toEqual([]);
    await form.getByRole("button", { name: "Create" }).click();

    const secretDialog = page.getByRole("dialog", { name: "Signing secret" });
    const secret = await secretDialog.getByLabel("Secret").inputValue();
    expect(secret).toMatch(/^whsec_/);
    receiver.register(path, secret);
    await secretDialog.getByRole("button", { name: "Done" }).click();
    await secretDialog.waitFor({ state: "detached" });
    // Shown once: not on the page now, nor after a reload.
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await page.getByRole("heading", { name: "Ops receiver" }).waitFor();
    expect(await page.content()).not.toContain(secret);
    await page.getByText("No deliveries yet.").waitFor();

    // A deployed-shape agent crashes TouchDesigner; the page shows the delivery without a reload.
    const agent = await suiteAgent(siteId, "GALLERY-PC1");
    await agent.presence(true);
    await agent.heartbeat({ processes: [{ configId: "cfg-td", name: "TouchDesigner", status: "RUNNING", pid: 4242 }] });
    await agent.crash("TouchDesigner", 4242);
    const row = page.locator("details.delivery[data-status=succeeded]", { hasText: "process.crashed" });
    await row.waitFor({ timeout: 60_000 });
    await row.locator("summary").click();
    const attempt = row.locator("table.attempts tbody tr");
    await waitFor("one attempt row", async () => (await attempt.count()) === 1);
    expect(await attempt.innerText()).toMatch(/^1\s.*\s200\s+\d+ ms/s);
    await waitFor("the verified delivery at the receiver", () => receiver.at(path).some((d) => d.verified && d.payload?.event === "process.crashed"));
    // The 24 h chart counts it too.
    await page.locator(".chart .legend", { hasText: "1 succeeded" }).waitFor();

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, "console.png"), fullPage: true });
    // 360 px wide: nothing wider than the screen.
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth as number)).toBeLessThanOrEqual(360);
    await page.screenshot({ path: join(SCREENSHOTS, "console-360.png"), fullPage: true });
    expect(await unnamedControls(page)).toEqual([]);
    expect((page as Page & { problems?: string[] }).problems).toEqual([]);
    await page.context().close();

    // A member sees the same webhook and delivery, and no action anywhere.
    const webhookId = (await store.db.collection(paths.webhooks(siteId)).get()).docs[0]?.id as string;
    const member = await signIn(email(people.member));
    await member.getByRole("link", { name: "Ops receiver" }).click();
    await member.locator("details.delivery[data-status=succeeded]").waitFor();
    await member.locator("details.delivery summary").click();
    for (const action of ["Send test", "Pause", "Disable", "Edit", "Rotate secret", "Delete", "Retry now"]) {
      expect(await member.getByRole("button", { name: action }).count()).toBe(0);
    }
    await member.goto(`${origin()}/#/sites/${siteId}`);
    await member.getByText("Read-only: site admins change webhooks.").waitFor();
    expect(await member.getByRole("button", { name: "New webhook" }).count()).toBe(0);
    await member.context().close();
    // The member forcing the callable is refused by the server, whatever the page shows.
    const forced = await call("pauseWebhook", { siteId, webhookId }, await idToken(people.member));
    expect(forced.status).toBe(403);
    expect(forced.body.error?.status).toBe("PERMISSION_DENIED");
    expect((await store.db.doc(paths.webhook(siteId, webhookId)).get()).get("enabled")).toBe(true);

    // A stranger sees nothing: no sites, and the rules refuse the site's webhooks.
    const stranger = await signIn(email(people.stranger));
    await stranger.getByRole("heading", { name: "No sites" }).waitFor();
    await stranger.goto(`${origin()}/#/sites/${siteId}`);
    await stranger.getByText("You have no access to this site.").waitFor();
    expect(await stranger.content()).not.toContain("Ops receiver");
    await stranger.context().close();

    // Embedded: the same route without the header, for an iframe in a host dashboard. There a
    // one-click action asks first (a framing page could steer the click): Cancel changes nothing.
    const embedded = await signIn(email(people.admin));
    const embedResponse = await embedded.goto(`${origin()}/embed#/sites/${siteId}/webhooks/${webhookId}`);
    expect(embedResponse?.headers()["content-security-policy"]).toContain("frame-ancestors 'self'");
    await embedded.getByRole("heading", { name: "Ops receiver" }).waitFor();
    expect(await embedded.locator("header.chrome").count()).toBe(0);
    await embedded.getByRole("button", { name: "Pause" }).click();
    const ask = embedded.getByRole("dialog", { name: "Pause Ops receiver?" });
    await ask.getByRole("button", { name: "Cancel" }).click();
    await ask.waitFor({ state: "detached" });
    await sleep(1000);
    expect((await store.db.doc(paths.webhook(siteId, webhookId)).get()).get("enabled")).toBe(true);
    await embedded.getByRole("button", { name: "Pause" }).click();
    await embedded.getByRole("dialog", { name: "Pause Ops receiver?" }).getByRole("button", { name: "Pause" }).click();
    await waitFor("the webhook paused", async () => (await store.db.doc(paths.webhook(siteId, webhookId)).get()).get("enabled") === false);
    // Only the exact embed route is embedded: any other path keeps the header.
    await embedded.goto(`${origin()}/x/embed#/sites/${siteId}/webhooks/${webhookId}`);
    await embedded.getByRole("heading", { name: "Ops receiver" }).waitFor();
    expect(await embedded.locator("header.chrome").count()).toBe(1);
    await embedded.context().close();
  });

  it("a webhook switched off by its failures is announced on the site page; an admin enables it there in one click and re-sends what it missed", async () => {
    const { siteId, people, email } = await siteWithPeople();
    const path = `/console/${siteId}/relay`;
    let answer = 503;
    const { webhookId } = await hookAnswering(siteId, people.admin, "Chat relay", path, () => answer);
    // A crash fails five times (seconds apart here), then the webhook is off as its tenth failure leaves it.
    await crashProcess(store.db, { siteId, machineId: "m1", processId: "p1" }, { name: "TouchDesigner" });
    await waitFor(
      "five failures",
      async () => receiver.at(path).length === 5 && (await store.db.doc(paths.webhook(siteId, webhookId)).get()).get("failCount") === 5,
    );
    // The first failure of the streak, as the pipeline recorded it: where re-sending starts by default.
    const firstFailure = Math.min(
      ...((await store.db.doc(paths.webhook(siteId, webhookId)).get()).get("failStreak") as string[]).map((k) => Number(k.split(":")[0])),
    );
    // Halfway to the switch-off, the site page says it is failing (a member sees it too).
    const member = await signIn(email(people.member));
    const failing = member.locator(`[data-failing-notice="${webhookId}"]`);
    await failing.waitFor();
    expect(await failing.textContent()).toBe(
      "Chat relay is failing: 5 deliveries in a row failed (last: 503). It is switched off after 10; check its receiver.",
    );
    await store.db.doc(paths.webhook(siteId, webhookId)).update({ enabled: false, disabledReason: "auto", failCount: 10, lastStatus: 503 });

    // Switched off, the notice says so, live; a member has nothing to click.
    await failing.waitFor({ state: "detached" });
    const seen = member.locator(`[data-disabled-notice="${webhookId}"]`);
    await seen.waitFor();
    expect(await seen.textContent()).toContain("Chat relay is off: switched off after 10 consecutive failures.");
    expect(await seen.getByRole("button").count()).toBe(0);

    const page = await signIn(email(people.admin));
    const notice = page.getByRole("alert").filter({ hasText: "Chat relay is off" });
    await notice.waitFor();
    await notice.getByRole("button", { name: "Enable Chat relay" }).click();
    await waitFor("enabled again", async () => (await store.db.doc(paths.webhook(siteId, webhookId)).get()).get("enabled") === true);
    // The live list drops the notice, on both pages.
    await notice.waitFor({ state: "detached" });
    await seen.waitFor({ state: "detached" });
    expect((await store.db.doc(paths.webhook(siteId, webhookId)).get()).data()).toMatchObject({ enabled: true, failCount: 0, disabledReason: null });

    // Then it offers to re-send what the webhook missed, from when its failures began.
    answer = 200;
    const dialog = page.getByRole("dialog", { name: "Re-send what Chat relay did not get" });
    const since = await dialog.getByLabel("Since").inputValue();
    expect(new Date(since).getTime()).toBeLessThanOrEqual(firstFailure);
    expect(new Date(since).getTime()).toBeGreaterThan(firstFailure - 60_000);
    await dialog.getByRole("button", { name: "Re-send" }).click();
    await page.locator("[data-recovery]").getByText("Chat relay: Re-sent 1 of 1.").waitFor({ timeout: 30_000 });
    expect(
      receiver
        .at(path)
        .slice(5)
        .map((d) => [d.payload?.event, d.verified]),
    ).toEqual([["process.crashed", true]]);
  });

  it("every path the console answers carries its CSP; only /embed may name other framing origins", async () => {
    for (const path of ["/", "/index.html", "/sites/x", "/anything", "/x/embed", "/embed/", "/embed/x"]) {
      const res = await fetch(`${origin()}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-security-policy")).toMatch(/script-src 'self'.*frame-ancestors 'self'$/);
      expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    }
    const embed = await fetch(`${origin()}/embed`);
    expect(embed.status).toBe(200);
    expect(embed.headers.get("content-security-policy")).toMatch(/script-src 'self'.*frame-ancestors 'self'/);
    expect(embed.headers.get("x-frame-options")).toBeNull();
  });

  it("an admin retries a failed delivery from the log, edits, rotates, pauses, resumes and deletes, each through the callables", async () => {
    const { siteId, people, email } = await siteWithPeople();
    const path = `/console/${siteId}`;
    let answer = 500;
    const { webhookId, secret } = await hookAnswering(siteId, people.admin, "To delete", path, () => answer);
    const page = await signIn(email(people.admin));
    await page.goto(`${origin()}/#/sites/${siteId}/webhooks/${webhookId}`);
    await page.getByRole("heading", { name: "To delete" }).waitFor();

    // Five failed attempts (the test project's schedule: seconds apart), then retry by hand.
    await crashProcess(store.db, { siteId, machineId: "m1", processId: "p1" }, { name: "TouchDesigner" });
    await page.getByLabel("Status", { exact: true }).selectOption("failed");
    const failed = page.locator("details.delivery[data-status=failed]");
    await failed.waitFor({ timeout: 60_000 });
    expect(await page.locator("details.delivery").count()).toBe(1);
    await failed.locator("summary").click();
    expect(await failed.locator("table.attempts tbody tr").count()).toBe(5);
    answer = 200;
    await failed.getByRole("button", { name: "Retry now" }).click();
    await page.getByRole("status").getByText("Retried as attempt 6: 200.").waitFor();
    await page.getByLabel("Status", { exact: true }).selectOption("succeeded");
    const retried = page.locator("details.delivery[data-status=succeeded]");
    await retried.waitFor();
    await retried.locator("summary").click();
    expect(await retried.locator("table.attempts tbody tr", { hasText: "(manual)" }).count()).toBe(1);

    // Edit: one more event type.
    await page.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("dialog", { name: "Edit To delete" });
    await edit.getByLabel("machine.offline").check();
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    expect((await store.db.doc(paths.webhook(siteId, webhookId)).get()).get("events")).toEqual(["process.crashed", "machine.offline"]);

    // Rotate with the default overlap: the new secret, shown once.
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await page.getByRole("dialog", { name: "Rotate the secret of To delete" }).getByRole("button", { name: "Rotate" }).click();
    const secretDialog = page.getByRole("dialog", { name: "Signing secret" });
    const rotated = await secretDialog.getByLabel("Secret").inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await secretDialog.getByRole("button", { name: "Done" }).click();
    await page
      .getByRole("status")
      .getByText(/^Rotated; the old secret works until/)
      .waitFor();

    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByRole("button", { name: "Resume" }).waitFor();
    expect((await store.db.doc(paths.webhook(siteId, webhookId)).get()).get("disabledReason")).toBe("paused");
    await page.getByRole("button", { name: "Resume" }).click();
    await page.getByRole("button", { name: "Pause" }).waitFor();

    await page.getByRole("button", { name: "Delete" }).click();
    const confirm = page.getByRole("dialog", { name: "Delete To delete?" });
    await confirm.getByRole("button", { name: "Cancel" }).click();
    expect((await store.db.doc(paths.webhook(siteId, webhookId)).get()).exists).toBe(true);
    await page.getByRole("button", { name: "Delete" }).click();
    await confirm.getByRole("button", { name: "Delete webhook" }).click();
    await page.getByText("No webhooks yet.").waitFor();
    expect((await store.db.doc(paths.webhook(siteId, webhookId)).get()).exists).toBe(false);
    await page.context().close();
  });
});
