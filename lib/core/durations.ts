const DAY = 86_400;

/**
 * Seconds in an ISO-8601 duration (`P1Y2M10DT2H30M`, `P4W`); undefined when it is not one. Calendar
 * units are taken as Azure's documentation counts them for rotation (a year 365 days, a month 30
 * days). Here, below every domain, because both the rotation policy's rules (lib/keys/rotation.ts)
 * and the schedule that acts on a stored policy (lib/events/schedule.ts, which bundles no key code)
 * read the same durations.
 */
export function durationSeconds(duration: string): number | undefined {
  const match = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?!$)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!match) return undefined;
  const [, y, mo, w, d, h, mi, s] = match.map((part) => Number(part ?? 0));
  return (y! * 365 + mo! * 30 + w! * 7 + d!) * DAY + h! * 3600 + mi! * 60 + s!;
}
