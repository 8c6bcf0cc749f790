/** Contact task results carry people's emails and mobiles; cards show them masked (DESIGN §6). */

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

function mask(s: string): string {
  return s.length <= 1 ? '*' : `${s[0]}***`;
}

/** A URL fit for logs and messages: the password in it (postgres://user:secret@host) never shows. */
export function redactUrl(u: string): string {
  return u.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
