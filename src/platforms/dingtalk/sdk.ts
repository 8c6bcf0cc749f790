import { createRequire } from 'node:module';
import type * as DingtalkSdk from 'dingtalk-stream';

/** dingtalk-stream, loaded with require as the Feishu SDK is (feishu/sdk.ts): RSS +31 MB against +35 imported on Node 24, +18 against +29 on Node 20. */
export const dingtalkStream = createRequire(import.meta.url)('dingtalk-stream') as typeof DingtalkSdk;
export type { DWClientDownStream } from 'dingtalk-stream';
export const { TOPIC_CARD, TOPIC_ROBOT } = dingtalkStream;
