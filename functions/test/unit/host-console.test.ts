import { checkedByDefault, SUBSCRIBABLE_EVENT_TYPES } from "../../../console/src/model";
import { HOST_REPORTED_EVENT_TYPES } from "../../src/domain/event-catalog";

// The console's new-webhook form: the pipeline's own events ticked, the host's opt-in.

describe("the new-webhook form's event ticks", () => {
  it("starts with the pipeline's own events ticked and the host's threshold and display events not", () => {
    expect(SUBSCRIBABLE_EVENT_TYPES.filter(checkedByDefault)).toEqual([
      "process.crashed",
      "process.start_failed",
      "machine.offline",
      "machine.online",
      "connection_failure",
      // A flapping machine's or process's events stand for those they hold back: ticked with them.
      "machine.flapping",
      "machine.stable",
      "process.flapping",
      "process.stable",
      // Failing, then switched off by its failures, a webhook is told to the others: the site learns at once.
      "webhook.failing",
      "webhook.disabled",
    ]);
    expect(SUBSCRIBABLE_EVENT_TYPES.filter((t) => !checkedByDefault(t))).toEqual([...HOST_REPORTED_EVENT_TYPES]);
    expect(HOST_REPORTED_EVENT_TYPES).toContain("display.drift");
  });
});
