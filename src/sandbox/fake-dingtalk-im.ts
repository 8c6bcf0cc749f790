import type { FakeRequest, FakeResponse } from './fake-server.js';

export interface FakeCard {
  outTrackId: string;
  templateId: string;
  openSpaceId: string;
  callbackType?: string;
  params: Record<string, string>;
  history: { at: number; params: Record<string, string> }[];
  /** A group's top box (吊顶, delivered to ONE_BOX): shown until it expires or is closed. */
  topBox?: { expiresAt: number; closedAt?: number };
  /** Per person (userId): the private data a callback answered, drawn over `params` for them alone. */
  privateParams?: Map<string, Record<string, string>>;
}

/** A field of a form variable (the card platform's Form component, as the official example sends it). */
interface FormField {
  name: string;
  type: string;
  hidden?: boolean;
  required?: boolean;
  defaultValue?: unknown;
  options?: { value: string; text: string }[];
}

export interface FakeRobotMessage {
  via: 'group' | 'user' | 'session';
  to: string;
  title: string;
  text: string;
  at: number;
  /** Session webhook messages: the staffIds mentioned (`at.atUserIds`). */
  atUserIds?: string[];
}

const MAX_PARAM_BYTES = 1024;
const MAX_MSG_PARAM_BYTES = 15_000;

/** DingTalk's card and robot-message APIs on the fake: what was delivered, updated and said. */
export class FakeDingtalkIm {
  readonly cards = new Map<string, FakeCard>();
  readonly messages: FakeRobotMessage[] = [];
  /** Make deliveries report failure (deliverResults[].success = false). */
  failDelivery = false;
  /** The card templates that exist in the card platform; empty: any id is taken. */
  readonly templates = new Set<string>();
  readonly listeners = new Set<(kind: 'card' | 'message', item: FakeCard | FakeRobotMessage) => void>();
  /** Which conversation each message's session webhook answers into. */
  readonly sessionChats = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  createAndDeliver(r: FakeRequest): FakeResponse {
    const b = (r.body ?? {}) as {
      cardTemplateId?: string;
      outTrackId?: string;
      callbackType?: string;
      openSpaceId?: string;
      cardData?: { cardParamMap?: Record<string, unknown> };
      topOpenSpaceModel?: { spaceType?: string };
      topOpenDeliverModel?: { expiredTimeMillis?: unknown };
    };
    if (!b.cardTemplateId || !b.outTrackId || !b.openSpaceId) return bad('paramError', 'cardTemplateId, outTrackId and openSpaceId are required');
    if (this.templates.size > 0 && !this.templates.has(b.cardTemplateId)) return bad('paramError', `template not exist: ${b.cardTemplateId}`);
    const params = checkParams(b.cardData?.cardParamMap);
    if (typeof params === 'string') return bad('paramError.cardParamMap', params);
    const spaceType = /^dtv1\.card\/\/([A-Z_]+)\./.exec(b.openSpaceId)?.[1] ?? '';
    // A top box (official example, 吊顶卡片使用动态数据源): ONE_BOX space, its model and an expiry.
    const expiry = b.topOpenDeliverModel?.expiredTimeMillis;
    const top = spaceType === 'ONE_BOX' && typeof expiry === 'number' ? expiry : undefined;
    if (spaceType === 'ONE_BOX' && (b.topOpenSpaceModel?.spaceType !== 'ONE_BOX' || top === undefined))
      return bad('paramError', 'topOpenSpaceModel.spaceType ONE_BOX and topOpenDeliverModel.expiredTimeMillis are required');
    if (this.failDelivery)
      return {
        status: 200,
        body: {
          success: true,
          result: { outTrackId: b.outTrackId, deliverResults: [{ spaceType, spaceId: b.openSpaceId, success: false, errorMsg: 'robot not in group' }] },
        },
      };
    const delivered = {
      status: 200,
      body: { success: true, result: { outTrackId: b.outTrackId, deliverResults: [{ spaceType, spaceId: b.openSpaceId, success: true }] } },
    };
    // One instance per outTrackId: DingTalk documents no answer for a repeated id; taskbot takes it as the same card.
    if (this.cards.has(b.outTrackId)) return delivered;
    const card: FakeCard = {
      outTrackId: b.outTrackId,
      templateId: b.cardTemplateId,
      openSpaceId: b.openSpaceId,
      ...(b.callbackType && { callbackType: b.callbackType }),
      params,
      history: [{ at: this.now(), params }],
      ...(top !== undefined && { topBox: { expiresAt: top } }),
    };
    this.cards.set(b.outTrackId, card);
    for (const l of this.listeners) l('card', card);
    return delivered;
  }

  /** Card instances created but not delivered (by id). */
  readonly undelivered = new Set<string>();

  /** POST /v1.0/card/instances: a card instance that is not delivered anywhere. */
  create(r: FakeRequest): FakeResponse {
    const b = (r.body ?? {}) as { cardTemplateId?: string; outTrackId?: string };
    if (!b.cardTemplateId || !b.outTrackId) return bad('paramError', 'cardTemplateId and outTrackId are required');
    if (this.templates.size > 0 && !this.templates.has(b.cardTemplateId)) return bad('paramError', `template not exist: ${b.cardTemplateId}`);
    this.undelivered.add(b.outTrackId);
    return { status: 200, body: { success: true, result: b.outTrackId } };
  }

  update(r: FakeRequest): FakeResponse {
    const b = (r.body ?? {}) as {
      outTrackId?: string;
      cardData?: { cardParamMap?: Record<string, unknown> };
      cardUpdateOptions?: { updateCardDataByKey?: boolean };
    };
    const card = b.outTrackId ? this.cards.get(b.outTrackId) : undefined;
    if (!card) return bad('cardNotExist', 'card instance not found');
    const params = checkParams(b.cardData?.cardParamMap);
    if (typeof params === 'string') return bad('paramError.cardParamMap', params);
    card.params = b.cardUpdateOptions?.updateCardDataByKey ? { ...card.params, ...params } : params;
    card.history.push({ at: this.now(), params: card.params });
    for (const l of this.listeners) l('card', card);
    return { status: 200, body: { success: true, result: true } };
  }

  /** Top boxes open in a group now. */
  openTopBoxes(chatId: string): FakeCard[] {
    return [...this.cards.values()].filter((c) => c.openSpaceId === oneBox(chatId) && this.topBoxOpen(c));
  }

  /** A top box delivered, not closed and not expired. */
  topBoxOpen(c: FakeCard): boolean {
    return c.topBox !== undefined && c.topBox.closedAt === undefined && c.topBox.expiresAt > this.now();
  }

  /** POST /v1.0/im/topBoxes/close (im 1.0 TopboxClose): closes it for everyone; the answer has no body. */
  closeTopBox(r: FakeRequest): FakeResponse {
    const b = (r.body ?? {}) as { outTrackId?: string; openConversationId?: string; robotCode?: string };
    if (!b.outTrackId || !b.openConversationId) return bad('paramError', 'outTrackId and openConversationId are required');
    const card = this.cards.get(b.outTrackId);
    if (!card?.topBox || card.openSpaceId !== oneBox(b.openConversationId)) return bad('cardNotExist', 'top box not found');
    card.topBox.closedAt ??= this.now();
    for (const l of this.listeners) l('card', card);
    return { status: 200, body: '' };
  }

  /** What DingTalk does with the data a callback answered: merges it into the card. */
  applyInline(outTrackId: string, params: Record<string, string>): void {
    const card = this.cards.get(outTrackId);
    if (!card) return;
    card.params = { ...card.params, ...params };
    card.history.push({ at: this.now(), params: card.params });
    for (const l of this.listeners) l('card', card);
  }

  /** What DingTalk does with the private data a callback answered: that person's view of the card changes. */
  applyPrivate(outTrackId: string, userId: string, params: Record<string, string>): void {
    const card = this.cards.get(outTrackId);
    if (!card) return;
    card.privateParams ??= new Map();
    card.privateParams.set(userId, { ...card.privateParams.get(userId), ...params });
    for (const l of this.listeners) l('card', card);
  }

  /** The card as one person sees it: the card data with their private data over it. */
  viewOf(card: FakeCard, userId: string): Record<string, string> {
    return { ...card.params, ...card.privateParams?.get(userId) };
  }

  /**
   * What the client sends when a person submits a card's form (`entered`: by field name, the kind
   * by its option value): hidden fields keep their value, a SELECT is sent as `{index, value}`, a
   * MULTI_SELECT as `{index: [..], value: [..]}`, a CHECKBOX as a boolean; the form as drawn goes with it (`current_form`). Like the client, it
   * refuses a required field left empty (it is never sent).
   */
  formSubmission(
    outTrackId: string,
    userId: string,
    entered: Record<string, string | boolean | string[]>,
  ): { form: Record<string, unknown>; current_form: unknown } {
    const card = this.cards.get(outTrackId);
    const current = JSON.parse(card ? (this.viewOf(card, userId).form ?? '{}') : '{}') as { fields?: FormField[] };
    if (!current.fields) throw new Error(`card ${outTrackId} has no form`);
    const form: Record<string, unknown> = {};
    for (const f of current.fields) {
      const v = f.hidden ? f.defaultValue : entered[f.name];
      if (f.required && (v === undefined || v === '')) throw new Error(`${f.name} is required`);
      if (v === undefined) continue;
      const indexOf = (x: unknown) => f.options?.findIndex((o) => o.value === x) ?? -1;
      const many = Array.isArray(v) ? v : [v];
      form[f.name] =
        f.type === 'SELECT'
          ? { index: indexOf(v), value: v }
          : f.type === 'MULTI_SELECT'
            ? { index: many.map(indexOf), value: many }
            : f.type === 'CHECKBOX'
              ? v === true || v === 'true'
              : v;
    }
    return { form, current_form: current };
  }

  robotSend(r: FakeRequest, via: 'group' | 'user'): FakeResponse {
    const b = (r.body ?? {}) as { robotCode?: string; openConversationId?: string; userIds?: string[]; msgKey?: string; msgParam?: string };
    if (b.msgKey !== 'sampleMarkdown' || typeof b.msgParam !== 'string') return bad('paramError.msgKey', 'unsupported msgKey');
    if (Buffer.byteLength(b.msgParam) > MAX_MSG_PARAM_BYTES) return bad('paramError.msgParam', 'msgParam too long');
    const p = JSON.parse(b.msgParam) as { title: string; text: string };
    for (const to of via === 'group' ? [b.openConversationId ?? ''] : (b.userIds ?? [])) this.record({ via, to, title: p.title, text: p.text, at: this.now() });
    return { status: 200, body: via === 'group' ? { processQueryKey: 'pqk' } : { processQueryKey: 'pqk', invalidStaffIdList: [] } };
  }

  session(r: FakeRequest, id: string): FakeResponse {
    const b = (r.body ?? {}) as { msgtype?: string; markdown?: { title: string; text: string }; at?: { atUserIds?: unknown } };
    if (b.msgtype !== 'markdown' || !b.markdown) return { status: 200, body: { errcode: 400, errmsg: 'unsupported msgtype' } };
    const at = Array.isArray(b.at?.atUserIds) ? b.at.atUserIds.filter((x): x is string => typeof x === 'string') : undefined;
    this.record({
      via: 'session',
      to: this.sessionChats.get(id) ?? id,
      title: b.markdown.title,
      text: b.markdown.text,
      at: this.now(),
      ...(at && { atUserIds: at }),
    });
    return { status: 200, body: { errcode: 0, errmsg: 'ok' } };
  }

  private record(m: FakeRobotMessage): void {
    this.messages.push(m);
    for (const l of this.listeners) l('message', m);
  }
}

function checkParams(map: Record<string, unknown> | undefined): Record<string, string> | string {
  if (!map) return 'cardParamMap is required';
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string') return `cardParamMap.${k} must be a string`;
    if (Buffer.byteLength(v) > MAX_PARAM_BYTES) return `cardParamMap.${k} is over 1 KB`;
  }
  return map as Record<string, string>;
}

/** A group's top-box open space. */
const oneBox = (chatId: string) => `dtv1.card//ONE_BOX.${chatId}`;

const bad = (code: string, message: string): FakeResponse => ({ status: 400, body: { code, message, requestid: 'fake' } });
