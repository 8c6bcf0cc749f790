import type { NewCard, NewTask } from '../../src/store/store.js';

/** A task row as the store takes it (a Feishu drive task unless `over` says otherwise); its id is the key's last part. */
export const taskRow = (key: string, over: Partial<NewTask> = {}): NewTask => ({
  task_key: key,
  app: over.platform ?? 'feishu', // the single-app deployment's app of the platform
  platform: 'feishu',
  kind: 'drive',
  task_id: key.split(':')[2]!,
  operator: null,
  snapshot: '{}',
  snapshot_hash: 'h0',
  next_due_at: 1000,
  backoff_ms: 2000,
  created_at: 0,
  last_changed_at: 0,
  ...over,
});

/** A card row as the store takes it: an active card of task `taskKey` in chat oc_1 unless `over` says otherwise. */
export const cardRow = (ck: string, taskKey: string, over: Partial<NewCard> = {}): NewCard => ({
  card_key: ck,
  app: over.platform ?? 'feishu',
  platform: 'feishu',
  handle: ck.split(':')[1]!,
  chat_id: 'oc_1',
  task_key: taskKey,
  locale: 'zh',
  status: 'active',
  created_at: 0,
  ...over,
});
