import { TOPIC_CARD, TOPIC_ROBOT } from 'dingtalk-stream';
import { describe, expect, it } from 'vitest';
import type { FakeCard } from '../../src/sandbox/fake-dingtalk-im.js';
import type { FakeDingtalk } from '../../src/sandbox/fake-dingtalk.js';
import { platformsEach, until, withDingtalk } from '../helpers/bot.js';

type Answer = { response?: { userPrivateData?: { cardParamMap?: Record<string, string> }; cardUpdateOptions?: Record<string, boolean> } };
const answerOf = (ack: { data: unknown }) => (ack.data as Answer).response!;
const FORM_ENV = { DINGTALK_FORM_TEMPLATE_ID: 'tpl-form' };

/** Help's Track a task form on DingTalk (our form template), over the real Stream SDK. */
describe('DingTalk: a form to start tracking', () => {
  const t = platformsEach({ neighbours: true });

  async function help(d: FakeDingtalk, cid: string, o: { p2p?: boolean; staffId?: string } = {}): Promise<FakeCard> {
    await d.stream.push(TOPIC_ROBOT, d.robotMessage(cid, 'help', o).data);
    return until('the form', () =>
      [...d.im.cards.values()].find(
        (c) => c.templateId === 'tpl-form' && c.openSpaceId.endsWith(o.p2p ? `IM_ROBOT.${o.staffId ?? 'staff001'}` : `IM_GROUP.${cid}`),
      ),
    );
  }
  const submit = async (d: FakeDingtalk, form: FakeCard, values: Record<string, string | boolean>, user = 'staff001', messageId?: string) => {
    const answer = answerOf(await d.stream.push(TOPIC_CARD, d.submitForm(form.outTrackId, values, user), messageId ? { messageId } : {}));
    // What DingTalk does with it: that person's view of the form changes, nobody else's.
    if (answer.userPrivateData?.cardParamMap) d.im.applyPrivate(form.outTrackId, user, answer.userPrivateData.cardParamMap);
    return answer;
  };
  const cardsIn = (d: FakeDingtalk, space: string) => [...d.im.cards.values()].filter((c) => c.templateId === 'tpl' && c.openSpaceId === space);

  it('help is the usage and then the form; a bad id is told to the submitter alone and the form stays filled; a good one is the status command', async () => {
    const d = await withDingtalk(t, FORM_ENV);
    const form = await help(d, 'cidF==');
    expect(d.im.messages.at(-1)!.text).toContain('help — this help');
    const fields = (
      JSON.parse(form.params.form!) as { fields: { name: string; type: string; hidden?: boolean; defaultValue?: unknown; options?: { value: string }[] }[] }
    ).fields;
    expect(fields.map((f) => [f.name, f.type])).toEqual([
      ['chat', 'TEXT'],
      ['task_id', 'TEXT'],
      ['kind', 'SELECT'],
      ['notify', 'CHECKBOX'],
    ]);
    expect(fields[0]).toMatchObject({ hidden: true, defaultValue: 'cidF==' });
    // DingTalk's own kinds, "detect" first and chosen.
    expect(fields[2]!.options!.map((o) => o.value)).toEqual(['detect', 'storage', 'doc']);
    expect(form.params).toMatchObject({ title: 'Track a task', form_status: 'normal', form_btn_text: 'Track', note: '' });

    for (const [values, says] of [
      [{ task_id: 'not an id', kind: 'detect' }, 'Did not understand'],
      [{ task_id: 'x'.repeat(300), kind: 'storage' }, 'not a valid task id'],
    ] as const) {
      const a = await submit(d, form, values);
      expect(a.cardUpdateOptions).toEqual({ updatePrivateDataByKey: true });
      expect(a.userPrivateData!.cardParamMap!.note).toContain(says);
      // Refused: drawn again with what was entered (the kind as the client sent it), for the submitter only.
      const filled = JSON.parse(d.im.viewOf(form, 'staff001').form!) as { fields: { name: string; defaultValue?: unknown }[] };
      expect(filled.fields.find((f) => f.name === 'task_id')!.defaultValue).toBe(values.task_id);
      expect(filled.fields.find((f) => f.name === 'kind')!.defaultValue).toMatchObject({ value: values.kind });
    }
    expect(d.im.viewOf(form, 'staff002')).toEqual(form.params);
    expect(cardsIn(d, 'dtv1.card//IM_GROUP.cidF==')).toEqual([]);

    d.addTask({ id: 'copy-71', kind: 'doc', total: 100, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    const ok = await submit(d, form, { task_id: ' copy-71 ', kind: 'doc', notify: true }, 'staff001', 'frame-1');
    expect(ok.userPrivateData!.cardParamMap!.note).toBe('Looking up task copy-71; its card follows in this chat');
    // The form shows what was just asked (not the refused id before it), ready for the next task.
    expect(JSON.parse(d.im.viewOf(form, 'staff001').form!).fields[1].defaultValue).toBe(' copy-71 ');
    const card = await until('the live card', () => cardsIn(d, 'dtv1.card//IM_GROUP.cidF==')[0]);
    // Exactly what `status copy-71 doc notify` gives: a live card with one person waiting.
    expect(card.params.title).toContain('copy-71');
    expect(card.params.body).toContain('1 waiting to be notified');
    // A redelivery of the same submission posts nothing more.
    await submit(d, form, { task_id: 'copy-71', kind: 'doc', notify: true }, 'staff001', 'frame-1');
    await new Promise((r) => setTimeout(r, 300));
    expect(cardsIn(d, 'dtv1.card//IM_GROUP.cidF==')).toHaveLength(1);
  });

  it('in a 1:1 chat the form goes to the person and is taken only from them; its chat is the one it was delivered to, named or not', async () => {
    const d = await withDingtalk(t, FORM_ENV);
    const form = await help(d, 'cidP2P==', { p2p: true, staffId: 'staff007' });
    expect(form.openSpaceId).toBe('dtv1.card//IM_ROBOT.staff007');
    d.addTask({ id: 'copy-72', kind: 'doc', total: 100, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    // Someone else's submission of this form (forwarded, or forged) is not acted on.
    expect((await submit(d, form, { task_id: 'copy-72', kind: 'detect' }, 'staff001')).userPrivateData!.cardParamMap!.note).toBe(
      'This form belongs to another chat: send help here for a new one',
    );
    await submit(d, form, { task_id: 'copy-72', kind: 'detect' }, 'staff007');
    await until('the card in the 1:1 chat', () => cardsIn(d, 'dtv1.card//IM_ROBOT.staff007')[0]);
    expect(cardsIn(d, 'dtv1.card//IM_ROBOT.staff001')).toEqual([]);

    // The chat is taskbot's record of the delivery: a submission that names none goes there too.
    const noChat = {
      type: 'actionCallback',
      outTrackId: form.outTrackId,
      userId: 'staff007',
      content: JSON.stringify({ cardPrivateData: { actionIds: [], params: { form: { task_id: 'copy-72', kind: 'doc' } } } }),
    };
    expect(JSON.stringify((await d.stream.push(TOPIC_CARD, noChat)).data)).toContain('Looking up task copy-72');
    await until('a second card in the 1:1 chat', () => cardsIn(d, 'dtv1.card//IM_ROBOT.staff007').length === 2);
  });

  it('a form acts only in the chat taskbot delivered it to: a changed hidden chat or a made-up card is refused, and cards are not forwardable', async () => {
    const d = await withDingtalk(t, FORM_ENV);
    const form = await help(d, 'cidHome==');
    await help(d, 'cidOther==');
    d.addTask({ id: 'copy-81', kind: 'doc', total: 100, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    // What a modified client sends: the form as submitted, its hidden chat (or the card id) changed.
    const forged = (edit: (form: Record<string, unknown>) => void, outTrackId = form.outTrackId) => {
      const real = d.submitForm(form.outTrackId, { task_id: 'copy-81', kind: 'doc' });
      const content = JSON.parse(real.content) as { cardPrivateData: { params: { form: Record<string, unknown> } } };
      edit(content.cardPrivateData.params.form);
      return { ...real, outTrackId, content: JSON.stringify(content) };
    };
    const note = async (cb: object) => JSON.stringify((await d.stream.push(TOPIC_CARD, cb)).data);
    expect(await note(forged((f) => (f.chat = 'cidOther==')))).toContain('This form belongs to another chat');
    expect(await note(forged((f) => (f.chat = 'user:staff001')))).toContain('This form belongs to another chat');
    expect(await note(forged(() => undefined, 'tb-made-up-form'))).toContain('This form is no longer valid');
    const { userId: _nobody, ...unnamed } = forged(() => undefined);
    expect(await note(unnamed)).toContain('This form is no longer valid');
    await new Promise((r) => setTimeout(r, 300));
    expect([...d.im.cards.values()].filter((c) => c.templateId === 'tpl')).toEqual([]);
    // Every card taskbot delivers stays in its chat.
    for (const body of d.calls('/v1.0/card/instances/createAndDeliver').map((r) => r.body as Record<string, { supportForward?: boolean } | undefined>)) {
      expect(body.imGroupOpenSpaceModel ?? body.imRobotOpenSpaceModel).toEqual({ supportForward: false });
    }
    // The real one is taken, in its own chat.
    expect(await note(d.submitForm(form.outTrackId, { task_id: 'copy-81', kind: 'doc' }))).toContain('Looking up task copy-81');
    await until('the card at home', () => cardsIn(d, 'dtv1.card//IM_GROUP.cidHome==')[0]);
  });

  it('a storage task is looked up as the person who submits the form, as a typed command is', async () => {
    const d = await withDingtalk(t, FORM_ENV);
    d.users.set('staff001', 'union-001');
    d.addTask({ id: 'mv-81', kind: 'storage', total: 4, outcome: 'succeeded', queuedSteps: 0, runningSteps: 500, advance: 1000 });
    const form = await help(d, 'cidStore==');
    const a = await submit(d, form, { task_id: 'mv-81', kind: 'detect' });
    expect(a.userPrivateData!.cardParamMap!.note).toBe('Looking up task mv-81; its card follows in this chat');
    const card = await until('the storage card', () => cardsIn(d, 'dtv1.card//IM_GROUP.cidStore==')[0]);
    expect(card.params.title).toContain('mv-81');
    expect(d.calls(/storage\/tasks/).every((r) => r.query.get('unionId') === 'union-001')).toBe(true);
  });

  it('without the form template help is the usage alone; a template the platform refuses is told in the chat and the log, and help still answers', async () => {
    const d = await withDingtalk(t);
    await d.stream.push(TOPIC_ROBOT, d.robotMessage('cidN==', 'help').data);
    await until('help', () => d.im.messages.find((m) => m.text.includes('help — this help')));
    expect(d.calls('/v1.0/card/instances/createAndDeliver')).toEqual([]);
    await t.bot!.stop();
    await d.close();
    delete t.bot;

    const r = await withDingtalk(t, FORM_ENV);
    r.im.templates.add('tpl');
    await r.stream.push(TOPIC_ROBOT, r.robotMessage('cidR==', 'help').data);
    const told = await until('the form refused, told', () => r.im.messages.find((m) => m.text.replace(/\\/g, '').includes('DINGTALK_FORM_TEMPLATE_ID')));
    expect(told.text.replace(/\\/g, '')).toMatch(/could not be sent \(NOT_CONFIGURED\)/);
    expect(r.im.messages.some((m) => m.text.includes('help — this help'))).toBe(true);
    expect(t.sink!.text).toContain('the Track a task form could not be sent');
  });
});
