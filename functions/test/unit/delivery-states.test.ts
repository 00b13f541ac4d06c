import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DELIVERY_TRANSITIONS, statusAfterAttempt, transitionAllowed } from "../../src/domain/delivery-states";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../../src/domain/webhook-vocabulary";

const ATTEMPTED: DeliveryStatus[] = ["pending", "succeeded", "failed"];

describe("the delivery record's states", () => {
  it("lets every attempt that can happen end in a transition of the table", () => {
    // Scheduled attempts run on no record yet or a pending one (the handler stands down on any
    // other), or cross a manual success; manual retries run on anything but a succeeded one.
    const cases: { current: DeliveryStatus | null; manual: boolean }[] = [
      ...([null, "pending", "succeeded"] as const).map((current) => ({ current, manual: false })),
      ...([null, "pending", "failed", "skipped", "succeeded"] as const).map((current) => ({ current, manual: true })),
    ];
    for (const { current, manual } of cases)
      for (const proposed of manual ? (["succeeded", "failed"] as const) : ATTEMPTED) {
        const ok = proposed === "succeeded";
        const { status } = statusAfterAttempt(current, proposed, { manual, ok });
        expect({ current, proposed, manual, status, allowed: transitionAllowed("recordAttempt", current, status) }).toEqual({
          current,
          proposed,
          manual,
          status,
          allowed: true,
        });
      }
  });

  it("keeps a succeeded delivery succeeded and a pending one on its schedule after a failed manual retry", () => {
    expect(statusAfterAttempt("succeeded", "failed", { manual: true, ok: false })).toEqual({ status: "succeeded", keepSchedule: true });
    expect(statusAfterAttempt("succeeded", "pending", { manual: false, ok: false })).toEqual({ status: "succeeded", keepSchedule: true });
    expect(statusAfterAttempt("pending", "failed", { manual: true, ok: false })).toEqual({ status: "pending", keepSchedule: true });
    expect(statusAfterAttempt("failed", "failed", { manual: true, ok: false })).toEqual({ status: "failed", keepSchedule: false });
    expect(statusAfterAttempt("skipped", "succeeded", { manual: true, ok: true })).toEqual({ status: "succeeded", keepSchedule: false });
    expect(statusAfterAttempt("pending", "pending", { manual: false, ok: false })).toEqual({ status: "pending", keepSchedule: false });
  });

  it("refuses what no write does: leaving succeeded, skipping a finished delivery, stopping one that is not pending", () => {
    for (const to of DELIVERY_STATUSES.filter((s) => s !== "succeeded")) expect(transitionAllowed("recordAttempt", "succeeded", to)).toBe(false);
    expect(transitionAllowed("recordSkipped", "failed", "skipped")).toBe(false);
    expect(transitionAllowed("recordSkipped", "succeeded", "skipped")).toBe(false);
    expect(transitionAllowed("stopDelivery", "succeeded", "failed")).toBe(false);
    expect(transitionAllowed("recordFirstAttempt", "pending", "succeeded")).toBe(false);
    expect(transitionAllowed("recordAttempt", "failed", "pending")).toBe(false);
    expect(transitionAllowed("stopDelivery", "pending", "failed")).toBe(true);
  });

  it("names in each transition a write the delivery records module has, and every status in some transition", () => {
    const records = readFileSync(join(__dirname, "../../src/data/delivery-records.ts"), "utf8");
    for (const t of DELIVERY_TRANSITIONS) expect(records).toMatch(new RegExp(`\\n  async ${t.by}\\(`));
    for (const s of DELIVERY_STATUSES) expect(DELIVERY_TRANSITIONS.some((t) => t.to.includes(s))).toBe(true);
  });
});
