import { buildQueueRequest, describeQueue, queueName } from "../../../scripts/cli/queue";
import { CliError } from "../../../scripts/cli/output";

const target = { project: "my-project" };

describe("Cloud Tasks queue requests", () => {
  it("names the queue after the delivery function, in the functions' region", () => {
    expect(queueName(target)).toBe("projects/my-project/locations/us-central1/queues/deliverWebhook");
    expect(queueName({ project: "my-project", location: "europe-west1", queue: "other" })).toBe("projects/my-project/locations/europe-west1/queues/other");
  });
  it("refuses a malformed project id before any request", () => {
    for (const project of ["", "My_Project", "a", "projects/x", "x".repeat(31)]) expect(() => queueName({ project })).toThrow(CliError);
  });
  it.each([
    ["status", "getQueue"],
    ["pause", "pauseQueue"],
    ["resume", "resumeQueue"],
    ["purge", "purgeQueue"],
  ] as const)("%s is %s on the queue", (action, method) => {
    expect(buildQueueRequest(action, target)).toEqual({ method, request: { name: queueName(target) } });
  });
  it("sets only the rate limits given, with a field mask", () => {
    expect(buildQueueRequest("limits", target, { maxPerSecond: 0.5 })).toEqual({
      method: "updateQueue",
      request: {
        queue: { name: queueName(target), rateLimits: { maxDispatchesPerSecond: 0.5 } },
        updateMask: { paths: ["rate_limits.max_dispatches_per_second"] },
      },
    });
  });
  it.each([{}, { maxConcurrent: 0 }, { maxConcurrent: 5001 }, { maxConcurrent: 1.5 }, { maxPerSecond: 0 }, { maxPerSecond: 501 }])(
    "refuses limits %j",
    (limits) => {
      expect(() => buildQueueRequest("limits", target, limits)).toThrow(CliError);
    },
  );
  it("describes a queue for people", () => {
    expect(
      describeQueue({ name: "q", state: "PAUSED", rateLimits: { maxConcurrentDispatches: 5, maxDispatchesPerSecond: 2 }, retryConfig: { maxAttempts: 10 } }),
    ).toEqual({
      name: "q",
      state: "PAUSED",
      maxConcurrentDispatches: 5,
      maxDispatchesPerSecond: 2,
      maxAttempts: 10,
    });
  });
});
