import type { LaneShareStore } from "../../src/data/lane-share-store";
import type { Store } from "../../src/data/store";
import { waitForSiteTurn } from "../../src/delivery/slow-lane-gate";
import type { DeliveryTask } from "../../src/delivery/task-queue";

const task: DeliveryTask = { siteId: "s1", webhookId: "w1", eventId: "evt_1", deliveryId: "dlv_1", attempt: 1 };
const NOW = new Date("2026-12-07T10:00:00Z");

function gate(reserve: () => Promise<number>) {
  const enqueued: { task: DeliveryTask; delaySeconds: number; lane: string | undefined }[] = [];
  const deps = {
    store: {} as Store,
    enqueue: async (t: DeliveryTask, delaySeconds: number, lane?: string) => {
      enqueued.push({ task: t, delaySeconds, lane });
      return "enqueued" as const;
    },
    now: () => NOW,
    config: { deliveryTimeoutMs: 10_000, slowLaneSiteShare: 5 },
    shares: { reserveSlowStart: reserve } as unknown as LaneShareStore,
  };
  return { deps, enqueued };
}

describe("the slow lane's gate", () => {
  it("lets a due attempt through, and never gates the fast lane or an attempt that has its start", async () => {
    const due = gate(async () => NOW.getTime());
    expect(await waitForSiteTurn(task, "slow", due.deps)).toBeNull();
    const never = gate(async () => {
      throw new Error("must not be asked");
    });
    expect(await waitForSiteTurn(task, "fast", never.deps)).toBeNull();
    expect(await waitForSiteTurn({ ...task, slotAt: NOW.getTime() + 4_000 }, "slow", never.deps)).toBeNull();
    expect([...due.enqueued, ...never.enqueued]).toEqual([]);
  });

  it("holds an attempt that is not due: a task of its own name carries the reserved start", async () => {
    const later = gate(async () => NOW.getTime() + 4_200);
    expect(await waitForSiteTurn({ ...task, hold: 2 }, "slow", later.deps)).toBe(5);
    expect(later.enqueued).toEqual([{ task: { ...task, hold: 3, slotAt: NOW.getTime() + 4_200 }, delaySeconds: 5, lane: "slow" }]);
  });

  it("asks again shortly, from a new task, when its reservation loses to contention, instead of failing the dispatch", async () => {
    const contended = gate(async () => {
      throw Object.assign(new Error("10 ABORTED: Too much contention on these documents."), { code: 10 });
    });
    expect(await waitForSiteTurn(task, "slow", contended.deps)).toBe(2);
    expect(contended.enqueued).toEqual([{ task: { ...task, hold: 1 }, delaySeconds: 2, lane: "slow" }]);
  });
});
