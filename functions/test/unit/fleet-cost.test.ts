import {
  eventCost,
  functionCost,
  heartbeatCapacity,
  hostCronDesign,
  machinesAt,
  monthly,
  perHeartbeatMode,
  PRICES,
  RUNTIME_US_PER_REQUEST,
  SECONDS_PER_MONTH,
  sitesOf,
  sweepMode,
  usd,
} from "../../../scripts/lib/fleet-cost";

const units = {
  heartbeatUs: 100,
  heartbeatMemoryGib: 0.5,
  idlePass: { reads: 3, writes: 1, readsPerSite: 0 },
  sweep: { runsPerMonth: 43_200, passesPerRun: 6, passSeconds: 0.5, memoryGib: 0.25 },
};

describe("fleet cost", () => {
  it("prices a function per heartbeat: 1,000 machines at 5 s are 518.4 million requests, $207.36 of request fees", () => {
    const cost = perHeartbeatMode({ machines: 1_000, beatSeconds: 5 }, units);
    // Each of the sweep's passes is an invocation: 6 a minute.
    const passes = 43_200 * 6;
    expect(cost.invocations).toBe(518_400_000 + passes);
    expect(cost.requests).toBeCloseTo(((518_400_000 + passes) / 1e6) * 0.4, 6);
    // The 5 later passes of each run are tasks, created and dispatched.
    expect(cost.tasks).toBeCloseTo((43_200 * 5 * 2 * 0.4) / 1e6, 9);
    // Only the sweep reads and writes: 6 passes a run.
    expect(cost.firestore).toBeCloseTo((43_200 * 6 * 3 * 0.06 + 43_200 * 6 * 0.18) / 1e5, 9);
  });

  it("prices the sweep's query per site: one read per site per pass, fewer for larger sites", () => {
    const perSite = { ...units, idlePass: { ...units.idlePass, readsPerSite: 1 } };
    const passes = 43_200 * 6;
    expect(sitesOf({ machines: 1_000, beatSeconds: 30 })).toBe(20);
    expect(sitesOf({ machines: 1_001, beatSeconds: 30, machinesPerSite: 10 })).toBe(101);
    expect(sitesOf({ machines: 0, beatSeconds: 30 })).toBe(0);
    const small = perHeartbeatMode({ machines: 1_000, beatSeconds: 30 }, perSite);
    const large = perHeartbeatMode({ machines: 1_000, beatSeconds: 30, machinesPerSite: 1_000 }, perSite);
    expect(small.firestore - large.firestore).toBeCloseTo((passes * (20 - 1) * PRICES.per100kReads) / 1e5, 9);
    expect(perHeartbeatMode({ machines: 0, beatSeconds: 30 }, perSite).firestore).toBeCloseTo(
      perHeartbeatMode({ machines: 0, beatSeconds: 30 }, units).firestore,
      12,
    );
  });

  it("bills the sweep by the time its passes hold an instance, whatever the fleet", () => {
    const idle = perHeartbeatMode({ machines: 0, beatSeconds: 30 }, units);
    const held = 43_200 * 6 * 0.5;
    expect(idle.compute).toBeCloseTo(held * (PRICES.perVcpuSecond + 0.25 * PRICES.perGibSecond), 9);
    // A run that slept through its passes (50 s a minute) cost 100x as much.
    const sleeping = perHeartbeatMode({ machines: 0, beatSeconds: 30 }, { ...units, sweep: { ...units.sweep, passesPerRun: 1, passSeconds: 50 } });
    expect(sleeping.compute / idle.compute).toBeCloseTo((43_200 * 50) / held, 6);
  });

  it("bills CPU over the utilisation target, memory beside it, and a held instance for its wall time", () => {
    const cpu = functionCost({ invocations: 1e6, cpuUs: 600, memoryGib: 1 });
    // 600 s of CPU at 60 %: 1,000 instance-seconds.
    expect(cpu.compute).toBeCloseTo(1_000 * (PRICES.perVcpuSecond + PRICES.perGibSecond), 9);
    const held = functionCost({ invocations: 10, cpuUs: 1, memoryGib: 0, wallSeconds: 50 });
    expect(held.compute).toBeCloseTo(500 * PRICES.perVcpuSecond, 12);
  });

  it("the heartbeat's compute grows with its CPU, the runtime's share included", () => {
    const lean = perHeartbeatMode({ machines: 10_000, beatSeconds: 30 }, units);
    const heavy = perHeartbeatMode({ machines: 10_000, beatSeconds: 30 }, { ...units, heartbeatUs: 600 });
    const beats = (10_000 * SECONDS_PER_MONTH) / 30;
    const perUs = (beats / 1e6 / 0.6) * (PRICES.perVcpuSecond + 0.5 * PRICES.perGibSecond);
    expect(heavy.compute - lean.compute).toBeCloseTo(500 * perUs, 6);
    expect(lean.requests).toBe(heavy.requests);
  });

  it("prices the sweep presence mode without a function per heartbeat: the sweep alone, at any cadence", () => {
    const perSite = { ...units, idlePass: { reads: 3, writes: 1, readsPerSite: 1 } };
    const fast = sweepMode({ machines: 100_000, beatSeconds: 5 }, perSite);
    const slow = sweepMode({ machines: 100_000, beatSeconds: 120 }, perSite);
    expect(fast).toEqual(slow);
    const passes = 43_200 * 6;
    expect(fast.invocations).toBe(passes);
    // 2,000 sites of 50 machines: 2,003 reads and a write a pass.
    expect(fast.firestore).toBeCloseTo((passes * 2_003 * 0.06 + passes * 0.18) / 1e5, 9);
    expect(fast.tasks).toBeCloseTo((43_200 * 5 * 2 * 0.4) / 1e6, 9);
    // The trigger mode costs the same sweep plus a function per heartbeat.
    const trigger = perHeartbeatMode({ machines: 100_000, beatSeconds: 30 }, perSite);
    expect(trigger.firestore).toBeCloseTo(fast.firestore, 9);
    expect(trigger.invocations - fast.invocations).toBe((100_000 * SECONDS_PER_MONTH) / 30);
    // Below the host's cron at 100,000 machines (issue 22, goal 5): $312 against $518.
    expect(fast.total).toBeLessThan(hostCronDesign({ machines: 100_000, beatSeconds: 30 }).total);
  });

  it("prices the host's cron by the machine docs it reads: 100,000 machines every 5 minutes are 864 million reads", () => {
    const host = hostCronDesign({ machines: 100_000, beatSeconds: 30 });
    expect(host.firestore).toBeCloseTo(518.4, 6);
    expect(host.invocations).toBe(8_640);
  });

  it("prices events with their deliveries as tasks created and dispatched", () => {
    const crash = eventCost(1_000, { reads: 4, writes: 5, invocations: 2, deliveries: 1, cpuUs: 2_000 });
    expect(crash.invocations).toBe(3_000);
    expect(crash.tasks).toBeCloseTo((2_000 / 1e6) * 0.4, 12);
    expect(crash.firestore).toBeCloseTo((4_000 * 0.06 + 5_000 * 0.18) / 1e5, 12);
    expect(monthly({ functions: [], firestore: { reads: 0, writes: 0, deletes: 1e5 }, taskOperations: 0 }).total).toBeCloseTo(0.02, 12);
  });

  it("finds where heartbeats reach a write ceiling and what the trigger's instances can take", () => {
    expect(machinesAt(500, 5)).toBe(2_500);
    expect(machinesAt(500, 120)).toBe(60_000);
    expect(heartbeatCapacity(100, 1, 250 - RUNTIME_US_PER_REQUEST)).toBeCloseTo(240_000, 6);
  });

  it("writes amounts a reader can scan", () => {
    expect(usd(518.4)).toBe("$518");
    expect(usd(12_345.6)).toBe("$12,346");
    expect(usd(7.256)).toBe("$7.26");
    expect(usd(0.004)).toBe("< $0.01");
    expect(usd(NaN)).toBe("n/a");
  });
});
