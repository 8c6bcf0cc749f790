import type { CardModel, TrackForm } from '../domain/card.js';
import { KINDS_BY_PLATFORM, type Platform } from '../domain/task.js';
import { fill, messages } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import { cardTexts } from '../i18n/card-texts.js';

const USAGE: Record<Locale, string[]> = {
  zh: [
    'status <任务ID> [contact|drive|storage|doc] [notify] — 实时任务卡片；加 notify 在结束时 @ 你（别名：状态、查询；提醒）',
    'list — 本群跟踪的任务（列表）；mine — 你发起跟踪的任务（我的任务）',
    'stop <任务ID> — 停止更新本群的该任务卡片（停止；发起人、群主或群管理员、管理员可用）',
    'stop anyone | stop asker — 管理员设置本群谁可以停止卡片',
    'pin on | off — 管理员：任务进行时置顶它的卡片（置顶）',
    'reports [规则ID] [today|yesterday|7d] — 飞书汇报统计（汇报）',
    'digest daily 09:00 [时区] | weekdays 18:30 | cron "0 9 * * 1" | off | now — 定时摘要（摘要）',
    'notify on | off — 本群查询任务的人都在结束时被 @（提醒）',
    'lang zh | en — 本群语言（语言）；settings — 本群设置（设置）；chatid — 本群 ID 与脚本用法（群ID）',
    'help — 显示本帮助（帮助）',
  ],
  en: [
    'status <task id> [contact|drive|storage|doc] [notify] — a live task card; with notify you are mentioned when it ends',
    'list — tasks tracked in this chat; mine — the tasks you asked for, in any chat',
    "stop <task id> — stop updating that task's cards here (the asker, the group owner or managers, admins)",
    'stop anyone | stop asker — admins: who in this chat may stop cards',
    'pin on | off — admins: pin live cards while their task runs',
    'reports [rule id] [today|yesterday|7d] — Feishu report submissions',
    'digest daily 09:00 [tz] | weekdays 18:30 | cron "0 9 * * 1" | off | now — scheduled digest',
    'notify on | off — mention whoever asks for a task here when it ends',
    "lang zh | en — this chat's language; settings — this chat's settings; chatid — this chat's id, for scripts",
    'help — this help',
  ],
};

/** The usage card, with the platform's Track a task form; with `unknown`, it opens with "did you mean". */
export function helpCard(locale: Locale, platform: Platform, unknown?: { input: string; suggestion?: string }): CardModel {
  const t = cardTexts(locale);
  const lead = unknown
    ? unknown.suggestion
      ? fill(t.didYouMean, { input: unknown.input, suggestion: unknown.suggestion })
      : fill(t.unknownCommand, { input: unknown.input })
    : t.helpIntro;
  return {
    type: 'help',
    locale,
    title: t.helpTitle,
    color: unknown ? 'orange' : 'blue',
    blocks: [
      { type: 'text', text: lead },
      { type: 'list', items: USAGE[locale], more: 0 },
    ],
    form: trackForm(locale, platform),
  };
}

/** The Track a task form: what `status <id> [kind] [notify]` takes, as inputs. */
function trackForm(locale: Locale, platform: Platform): TrackForm {
  const t = cardTexts(locale);
  const kinds = messages(locale).kind;
  return {
    title: t.formTitle,
    idLabel: t.formId,
    idPlaceholder: t.formIdPlaceholder,
    kindLabel: t.formKind,
    kinds: [{ value: 'detect', label: t.formDetect }, ...KINDS_BY_PLATFORM[platform].map((k) => ({ value: k, label: kinds[k] }))],
    notifyLabel: t.notify,
    submitLabel: t.formSubmit,
  };
}
