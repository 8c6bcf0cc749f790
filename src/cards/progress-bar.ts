/** Neither Feishu nor DingTalk has a progress component: a text bar serves cards and the terminal alike. */
export function progressBar(percent: number | undefined, width = 20): string {
  if (percent === undefined) return '░'.repeat(width);
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}
