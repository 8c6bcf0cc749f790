/**
 * A platform user id as Feishu (open_id `ou_…`) and DingTalk (staffId) hand them out: letters,
 * digits, `_` and `-`. Mentions are built only from ids that pass, so nothing else can ride in.
 */
export function isPlatformUserId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,64}$/.test(id);
}
