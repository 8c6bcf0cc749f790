/**
 * Text from users or upstream, made safe to show: no mention, link or markup can ride in on it.
 * Angle brackets become full-width (no <at>, no tags), "://" is broken with a zero-width space
 * (no auto-linked URLs), @all-style mentions are defused, and control characters go.
 */
export function plain(s: string): string {
  return (
    s
      // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what this removes
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, ' ')
      .replace(/</g, '＜')
      .replace(/>/g, '＞')
      .replace(/:\/\//g, ':\u200b//')
      .replace(/@(?=_?all\b|所有人|everyone\b|here\b)/gi, '@\u200b')
      .replace(/\b(www)\./gi, '$1\u200b.')
  );
}

/**
 * Markdown-safe text for DingTalk: plain(), on one line, with the characters that open inline
 * markup escaped, and those that open a block escaped when they lead.
 */
export function markdownText(s: string): string {
  return plain(s)
    .replace(/\s*\n\s*/g, ' ')
    .replace(/([\\`*_[\]|~])/g, '\\$1')
    .replace(/^(\s*)([#>+-]|\d+\.)/, '$1\\$2');
}
