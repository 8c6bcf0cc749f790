import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../fixtures/real');

export interface MessageFixture {
  file: string;
  /** The id in the fixture that stands for the bot (Feishu), swapped for the fake's. */
  bot?: string;
  /** What the bot must read as the command text. */
  reads: string;
  /** DingTalk: the typed parts to overwrite in a command replay (the first gets the command). */
  replace?: string[];
  /** DingTalk: the file is a whole Stream frame, its data a JSON string. */
  frame?: boolean;
  outcome: 'answer' | 'not-text';
}

interface Manifest {
  feishu: { messages: MessageFixture[]; cards: { file: string }[] };
  dingtalk: { messages: MessageFixture[]; cards: { file: string }[] };
}

export const manifest = JSON.parse(readFileSync(join(ROOT, 'manifest.json'), 'utf8')) as Manifest;

/** The fixture's text, as stored. */
export const fixtureText = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** The fixture as an object. */
export const fixture = (file: string): Record<string, unknown> => JSON.parse(fixtureText(file)) as Record<string, unknown>;

let n = 0;

/**
 * A Feishu fixture made unique and addressed to our fake bot: ids swapped, nothing else touched
 * but, optionally, the typed words (replaced in the content string as Feishu encodes it).
 */
export function feishuReplay(f: MessageFixture, botOpenId: string, command?: string): { envelope: Record<string, unknown>; messageId: string; chatId: string } {
  const u = `${Date.now().toString(36)}${++n}`;
  let text = fixtureText(f.file);
  if (f.bot) text = text.split(f.bot).join(botOpenId);
  const envelope = JSON.parse(text) as { header: Record<string, unknown>; event: { message: Record<string, unknown> } };
  const m = envelope.event.message;
  if (command !== undefined) m.content = String(m.content).replace(f.reads, command);
  envelope.header.event_id = `${String(envelope.header.event_id)}-${u}`;
  m.message_id = `${String(m.message_id)}-${u}`;
  m.chat_id = `${String(m.chat_id)}-${u}`;
  return { envelope, messageId: m.message_id as string, chatId: m.chat_id as string };
}

/**
 * A DingTalk robot message made unique (msgId, sender, conversation) with its session webhook
 * pointed at the fake; optionally with a command typed instead of the words it carries.
 */
export function dingtalkReplay(
  f: MessageFixture,
  fakeBase: string,
  command?: string,
): { data: Record<string, unknown>; staffId: string; conversationId: string; p2p: boolean } {
  const u = `${Date.now().toString(36)}${++n}`;
  const raw = fixture(f.file);
  let dataText = f.frame ? String(raw.data) : JSON.stringify(raw);
  if (command !== undefined) {
    (f.replace ?? []).forEach((part, i) => {
      dataText = dataText.replace(part, i === 0 ? command : '');
    });
  }
  const data = JSON.parse(dataText) as Record<string, unknown>;
  data.msgId = `${String(data.msgId)}-${u}`;
  data.senderStaffId = `${String(data.senderStaffId)}-${u}`;
  data.conversationId = `${String(data.conversationId)}-${u}`;
  if (typeof data.sessionWebhook === 'string') data.sessionWebhook = data.sessionWebhook.replace('https://oapi.dingtalk.com', fakeBase);
  return { data, staffId: data.senderStaffId as string, conversationId: data.conversationId as string, p2p: data.conversationType === '1' };
}
