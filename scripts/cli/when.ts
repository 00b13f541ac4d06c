/**
 * A moment as people give it on the command line: an RFC 3339 time with its offset, passed on
 * as it is, or a span back from now (`90m`, `6h`, `2d`), turned into one.
 */
export function moment(value: string, nowMs = Date.now()): string {
  const span = /^(\d{1,6})([mhd])$/.exec(value.trim());
  if (span) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as "m" | "h" | "d"];
    return new Date(nowMs - Number(span[1]) * unit).toISOString();
  }
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(value.trim()) && !Number.isNaN(Date.parse(value))) return value.trim();
  throw new Error(`must be a time with its offset (2026-12-07T08:00:00Z) or a span back from now (90m, 6h, 2d), got "${value}"`);
}
