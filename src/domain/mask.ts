import type { TaskSnapshot } from './task.js';

/** Contact task results carry people's emails and mobiles: shown masked wherever taskbot shows them. */

export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return mask(email);
  return `${email[0]}***${email.slice(at)}`;
}

export function maskMobile(mobile: string): string {
  const digits = mobile.replace(/\s+/g, '');
  if (digits.length < 7) return mask(digits);
  return `${digits.slice(0, 3)}****${digits.slice(-4)}`;
}

/** A snapshot whose failed rows show their emails and mobiles masked, as cards and files do. */
export function maskContacts(s: TaskSnapshot): TaskSnapshot {
  if (!s.items?.some((i) => i.email || i.mobile)) return s;
  return { ...s, items: s.items.map((i) => ({ ...i, ...(i.email && { email: maskEmail(i.email) }), ...(i.mobile && { mobile: maskMobile(i.mobile) }) })) };
}

function mask(s: string): string {
  return s.length <= 1 ? '*' : `${s[0]}***`;
}

/** A URL fit for logs and messages: the password in it (postgres://user:secret@host) never shows. */
export function redactUrl(u: string): string {
  return u.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
