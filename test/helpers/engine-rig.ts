import { taskCard } from '../../src/cards/task-card.js';
import type { CardHandle } from '../../src/domain/chat.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { Store } from '../../src/store/store.js';
import { WatchEngine } from '../../src/watch/engine.js';
import type { WatchOptions } from '../../src/watch/watch-options.js';
import { RecordingMessenger } from './recording-messenger.js';
import { ScriptedTasks } from './scripted-tasks.js';
import { freshStore } from './stores.js';

export const TZ = 'Asia/Shanghai';

/**
 * A watch engine on a fresh store (SQLite or PostgreSQL), with scripted tasks, a manual clock and a
 * messenger that records what it is sent: the set-up of the watch tests.
 */
export interface EngineRig {
  store: Store;
  clock: ManualClock;
  tasks: ScriptedTasks;
  messenger: RecordingMessenger;
  engine: WatchEngine;
  /** Another engine on the rig's store, its tasks and its clock (stopped by close). */
  another(o?: { options?: Partial<WatchOptions>; messenger?: RecordingMessenger }): WatchEngine;
  /** What a command does: task `id`'s card sent to `chatId` and watched by `engine`. */
  show(id: string, chatId?: string, engine?: WatchEngine): Promise<CardHandle>;
  close(): Promise<void>;
}

export async function engineRig(kind: string, o: { start?: number; options?: Partial<WatchOptions> } = {}): Promise<EngineRig> {
  const { store } = await freshStore(kind);
  const clock = new ManualClock(o.start ?? Date.UTC(2026, 10, 22, 2));
  const tasks = new ScriptedTasks();
  const messenger = new RecordingMessenger('feishu', () => clock.now());
  const engines: WatchEngine[] = [];
  const another = (a: { options?: Partial<WatchOptions>; messenger?: RecordingMessenger } = {}) => {
    const e = new WatchEngine({
      store,
      tasks,
      messengers: { feishu: a.messenger ?? messenger },
      timeZone: TZ,
      clock,
      ...(a.options && { options: a.options }),
    });
    engines.push(e);
    return e;
  };
  const engine = another({ ...(o.options && { options: o.options }) });
  return {
    store,
    clock,
    tasks,
    messenger,
    engine,
    another,
    async show(id, chatId = 'oc_1', e = engine) {
      const snap = tasks.snapshot(id);
      const model = taskCard(snap, { locale: 'en', timeZone: TZ, mode: 'live' });
      const handle = await messenger.send({ app: 'feishu', platform: 'feishu', chatId }, model);
      await e.cards.track(handle, snap, 'en', model);
      return handle;
    },
    async close() {
      for (const e of engines) await e.stop();
      await store.close();
    },
  };
}
