import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readMessage } from '../../src/platforms/feishu/event-readers.js';
import { readRobotMessage } from '../../src/platforms/dingtalk/robot-message.js';
import { readCardCallback, readFormSubmission, refilledForm } from '../../src/platforms/dingtalk/card-callback.js';
import { fixture, manifest, type MessageFixture } from '../helpers/real-payloads.js';

type Json = unknown;
type Path = (string | number)[];

/** Every place in a JSON value (objects' keys and arrays' items), as paths. */
function paths(v: Json, at: Path = []): Path[] {
  if (typeof v !== 'object' || v === null) return [];
  const out: Path[] = [];
  for (const [k, child] of Object.entries(v)) {
    const p = [...at, Array.isArray(v) ? Number(k) : k];
    out.push(p, ...paths(child, p));
  }
  return out;
}

type Op = 'null' | 'remove' | 'sibling';

/** A copy of `v` with one place set to null, removed, or given an extra sibling key. */
function mutate(v: Json, path: Path, op: Op, extra: Json): Json {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (op === 'null') parent[last] = null;
  else if (op === 'remove') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (!Array.isArray(parent)) parent[`x_unknown_${String(last)}`] = extra;
  return copy;
}

const startsWith = (p: Path, prefix: Path) => prefix.every((k, i) => p[i] === k);

/**
 * Places that carry the command itself (which message, which chat, what was typed, that it is
 * addressed to us): changing them may rightly change the answer, but must never throw.
 */
function carriesTheCommand(p: Path, essential: Path[]): boolean {
  return essential.some((e) => startsWith(p, e) || startsWith(e, p));
}

const extraValue = fc.oneof(fc.constant(null), fc.string(), fc.integer(), fc.object({ maxDepth: 1 }));
const op = fc.constantFrom<Op>('null', 'remove', 'sibling');

describe('the Feishu message parser against the real corpus, mutated', () => {
  const BOT = 'ou_the_bot';
  for (const f of manifest.feishu.messages.filter((x) => x.outcome === 'answer')) {
    it(`${f.file}: never throws, never loses the command text`, () => {
      const raw = JSON.parse(
        JSON.stringify(fixture(f.file))
          .split(f.bot ?? '\u0000')
          .join(BOT),
      ) as { header: object; event: { message: { mentions?: { id?: { open_id?: string } }[] } } };
      // The SDK hands the handler the header and the event merged.
      const data = { ...raw.header, ...raw.event };
      const base = readMessage(data, BOT);
      expect('cmd' in base && base.cmd?.text).toBe(f.reads);
      const botMention = (raw.event.message.mentions ?? []).findIndex((m) => m.id?.open_id === BOT);
      const essential: Path[] = [
        ['message', 'message_id'],
        ['message', 'chat_id'],
        ['message', 'content'],
        ['message', 'chat_type'],
        ['message', 'message_type'],
        ['message', 'mentions', botMention, 'id', 'open_id'],
        ['message', 'mentions', botMention, 'key'],
      ];
      if (botMention >= 0) essential.push(['message', 'mentions']); // removing a mention before the bot's shifts it
      const all = paths(data);
      fc.assert(
        fc.property(fc.nat({ max: all.length - 1 }), op, extraValue, (i, o, extra) => {
          const p = all[i]!;
          const read = readMessage(mutate(data, p, o, extra), BOT);
          if (carriesTheCommand(p, essential) && o !== 'sibling') return;
          expect(read).toHaveProperty('cmd');
          expect('cmd' in read && read.cmd?.text).toBe(f.reads);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('reads the message whose user ids are null (a tenant without the employee-id scope)', () => {
    const raw = fixture('feishu/message-user-id-null.json') as { header: object; event: object };
    const read = readMessage({ ...raw.header, ...raw.event }, 'ou_27ade7346f1dc5a485d4de0c5944dd13');
    // The header's tenant_key rides along: the key a marketplace app would scope its data by beside the app.
    expect(read).toMatchObject({ cmd: { text: '1212', userId: 'ou_83e067208fac1cc307e9ce95257f79dd', tenant: '736588c9260f175d' } });
  });
});

describe('the DingTalk robot message parser against the real corpus, mutated', () => {
  const deps = { unionIdOf: async () => 'union' };
  const dataOf = (f: MessageFixture) => {
    const raw = fixture(f.file);
    return JSON.parse(f.frame ? String(raw.data) : JSON.stringify(raw)) as Record<string, unknown>;
  };
  for (const f of manifest.dingtalk.messages.filter((x) => x.outcome === 'answer')) {
    it(`${f.file}: never throws, never loses the command text`, () => {
      const data = dataOf(f);
      const base = readRobotMessage(JSON.stringify(data), deps);
      expect('cmd' in base && base.cmd?.text).toBe(f.reads);
      const essential: Path[] = [['msgId'], ['conversationId'], ['conversationType'], ['msgtype'], ['text'], ['content'], ['senderStaffId']];
      const all = paths(data);
      fc.assert(
        fc.property(fc.nat({ max: all.length - 1 }), op, extraValue, (i, o, extra) => {
          const p = all[i]!;
          const read = readRobotMessage(JSON.stringify(mutate(data, p, o, extra)), deps);
          if (carriesTheCommand(p, essential) && o !== 'sibling') return;
          expect('cmd' in read && read.cmd?.text).toBe(f.reads);
        }),
        { numRuns: 300 },
      );
    });
  }

  it("names the organisation the robot serves (chatbotCorpId) as the command's tenant", () => {
    const f = manifest.dingtalk.messages.find((x) => x.file.endsWith('text-group-stream-frame.json'))!;
    expect(readRobotMessage(JSON.stringify(dataOf(f)), deps)).toMatchObject({ cmd: { tenant: 'ding9f*****cd16741' } });
  });

  it('accepts numbers where strings are documented and the other way round', () => {
    const data = { ...dataOf(manifest.dingtalk.messages[1]!), conversationType: 2, sessionWebhookExpiredTime: '1690367502152' };
    const read = readRobotMessage(JSON.stringify(data), deps);
    expect(read).toMatchObject({ cmd: { chatType: 'group', text: '测试数据', reply: { sessionWebhookExpiresAt: 1690367502152 } } });
  });

  it('never throws on any JSON at all', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(() => readRobotMessage(JSON.stringify(v), deps)).not.toThrow();
        expect(() => readMessage(v, 'ou_x')).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});

describe('the DingTalk form callback reader against the official example, mutated', () => {
  // The official form example's callback (every field type the Form component has), made a
  // submission of ours: our fields beside the example's, which taskbot never sent and must ignore.
  const example = fixture('dingtalk/form-callback.json') as Record<string, unknown>;
  const content = JSON.parse(String(example.content)) as { cardPrivateData: { params: { form: Record<string, unknown>; current_form: unknown } } };
  Object.assign(content.cardPrivateData.params.form, { chat: 'cidA==', task_id: 'copy-9', kind: { index: 2, value: 'doc' }, notify: true });
  const data = { ...example, content };
  const read = (v: unknown) => {
    const cb = readCardCallback(JSON.stringify(v));
    const form = cb && readFormSubmission(cb, 'frame-1', async (id) => id);
    if (cb && form) refilledForm(cb.params, form.values);
    return form;
  };

  it('never throws, and a change anywhere but in what the submission says leaves the command as it was', () => {
    expect(read(data)).toMatchObject({ cmd: { chatId: 'cidA==', userId: '16650***698', text: 'status copy-9 doc notify' } });
    const f = ['content', 'cardPrivateData', 'params', 'form'];
    const essential: Path[] = [
      ['outTrackId'],
      ['userId'],
      ['content'],
      ['content', 'cardPrivateData'],
      ['content', 'cardPrivateData', 'params'],
      f,
      ...['chat', 'task_id', 'kind', 'notify'].map((k) => [...f, k]),
    ];
    const all = paths(data);
    fc.assert(
      fc.property(fc.nat({ max: all.length - 1 }), op, extraValue, (i, o, extra) => {
        const p = all[i]!;
        const form = read(mutate(data, p, o, extra));
        if (carriesTheCommand(p, essential) && o !== 'sibling') return;
        expect(form && 'cmd' in form && form.cmd.text).toBe('status copy-9 doc notify');
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on any JSON at all', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (v, params) => {
        expect(() => read(v)).not.toThrow();
        expect(() => read({ outTrackId: 'o', userId: 'u', content: { cardPrivateData: { params } } })).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});
