/** Whether `tz` is an IANA time zone this runtime knows (Asia/Shanghai, UTC, …). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
