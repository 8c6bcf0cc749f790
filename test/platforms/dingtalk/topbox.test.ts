import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DingtalkMessenger } from '../../../src/platforms/dingtalk/messenger.js';
import { DingtalkApi } from '../../../src/platforms/dingtalk/api-client.js';
import { FakeDingtalk } from '../../../src/sandbox/fake-dingtalk.js';
import { sampleCards } from '../../helpers/card-samples.js';

/** The official top-box example's request (test/fixtures/real/README.md), against our fake and beside taskbot's own. */
const EXAMPLE = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/real/dingtalk/topbox-create-and-deliver.json'), 'utf8')) as Record<
  string,
  unknown
>;
/** What the example's generic replier adds for IM spaces and its dynamic data source: not the top box's. */
const NOT_THE_TOP_BOX = ['imGroupOpenSpaceModel', 'imRobotOpenSpaceModel', 'openDynamicDataConfig'];

describe('DingTalk top box (吊顶)', () => {
  let fake: FakeDingtalk;
  let api: DingtalkApi;
  beforeEach(async () => {
    fake = new FakeDingtalk();
    await fake.listen();
    api = new DingtalkApi({ clientId: fake.clientId, clientSecret: fake.clientSecret, apiBase: fake.baseUrl, oapiBase: fake.baseUrl, timeoutMs: 5000 });
  });
  afterEach(() => fake.close());

  it('the fake takes the official example request as a top box, and closes it with the fields the official SDK models for TopboxClose', async () => {
    const body = { ...EXAMPLE, topOpenDeliverModel: { expiredTimeMillis: Date.now() + 180_000 } };
    await api.createAndDeliverCard(body);
    const [box] = fake.im.openTopBoxes('cidExample==');
    expect(box).toMatchObject({ outTrackId: EXAMPLE.outTrackId, params: { title: '7月迭代' } });
    // TopboxCloseRequest (im 1.0): conversationType (群聊 1), coolAppCode, openConversationId, outTrackId, receiverUserIdList, robotCode.
    await api.closeTopBox({ openConversationId: 'cidExample==', outTrackId: String(EXAMPLE.outTrackId), robotCode: 'dingexamplerobotcode' });
    expect(fake.im.openTopBoxes('cidExample==')).toEqual([]);
    expect(fake.calls('/v1.0/im/topBoxes/close')[0]!.body).toEqual({
      openConversationId: 'cidExample==',
      outTrackId: EXAMPLE.outTrackId,
      robotCode: 'dingexamplerobotcode',
      conversationType: 1,
    });
    // A box that is not there (closed by a replica before, or never delivered) is CARD_GONE: given up, never retried.
    await expect(api.closeTopBox({ openConversationId: 'cidExample==', outTrackId: 'tb-nope-top', robotCode: 'r' })).rejects.toMatchObject({
      code: 'CARD_GONE',
      retryable: false,
    });
  });

  it("taskbot's pin sends every field of the example's top box, and its unpin closes that box", async () => {
    const m = new DingtalkMessenger(api, { robotCode: fake.clientId, cardTemplateId: 'tpl', topBoxTemplateId: 'tpl-top' });
    const model = Object.values(sampleCards('zh')).find((c) => c.type === 'task' && !c.final)!;
    const card = { app: 'dingtalk', platform: 'dingtalk' as const, chatId: 'cidG==', handle: 'tb-card-1' };
    await m.pin(card, model);
    const ours = fake.calls('/v1.0/card/instances/createAndDeliver').at(-1)!.body as Record<string, unknown>;
    const shape = (o: unknown): unknown =>
      o && typeof o === 'object' && !Array.isArray(o) ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, shape(v)])) : typeof o;
    for (const key of Object.keys(EXAMPLE).filter((k) => !NOT_THE_TOP_BOX.includes(k))) {
      if (key === 'cardData') continue; // the template's own variables
      expect(shape(ours[key]), key).toEqual(shape(EXAMPLE[key]));
    }
    expect(ours).toMatchObject({ openSpaceId: 'dtv1.card//ONE_BOX.cidG==', topOpenSpaceModel: { spaceType: 'ONE_BOX' }, cardTemplateId: 'tpl-top' });
    expect(fake.im.openTopBoxes('cidG==')).toHaveLength(1);
    await m.unpin({ ...card, pinned: true });
    expect(fake.im.openTopBoxes('cidG==')).toEqual([]);
    // 1:1 chats have no top box; without the template there are no pins.
    expect(m.cannotPin({ app: 'dingtalk', platform: 'dingtalk', chatId: 'user:staff001' })).toBe('groups-only');
    expect(new DingtalkMessenger(api, { robotCode: 'r' }).cannotPin(card)).toBe('needs-template');
  });
});
