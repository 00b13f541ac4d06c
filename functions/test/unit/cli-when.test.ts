import { moment } from "../../../scripts/cli/when";

// `deliveries recover --since`: a time with its offset, or a span back from now.

describe("moment", () => {
  const now = Date.parse("2026-12-07T12:00:00Z");

  it("takes a span back from now in minutes, hours or days", () => {
    expect(moment("90m", now)).toBe("2026-12-07T10:30:00.000Z");
    expect(moment("6h", now)).toBe("2026-12-07T06:00:00.000Z");
    expect(moment(" 2d ", now)).toBe("2026-12-05T12:00:00.000Z");
  });

  it("passes a time with its offset on as it is", () => {
    expect(moment("2026-12-07T08:00:00Z", now)).toBe("2026-12-07T08:00:00Z");
    expect(moment("2026-12-07T08:00:00.250+01:00", now)).toBe("2026-12-07T08:00:00.250+01:00");
  });

  it("refuses a time without an offset, a date alone, words and bare numbers, saying what it takes", () => {
    for (const bad of ["2026-12-07T08:00:00", "2026-12-07", "yesterday", "90", "5w", "2026-13-45T99:00:00Z"]) {
      expect(() => moment(bad, now)).toThrow(/a time with its offset \(2026-12-07T08:00:00Z\) or a span back from now \(90m, 6h, 2d\)/);
    }
  });
});
