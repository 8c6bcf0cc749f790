import type { Config } from '../config.js';
import { openStore } from '../store/open.js';
import { buildServices } from '../app/services.js';
import { networkChecks } from './network.js';
import type { Check } from './check.js';
import { redactUrl } from '../domain/mask.js';
import { feishuAppChecks } from './feishu-checks.js';
import { dingtalkAppChecks } from './dingtalk-checks.js';

export type { Check };

/**
 * Every check `taskbot doctor` prints: network paths, then each app (credentials, bot, scopes, event
 * delivery, clock; `only`: one app), then the database.
 */
export async function runDoctor(config: Config, only?: string): Promise<Check[]> {
  const apps = only === undefined ? config.apps : config.apps.filter((a) => a.id === only);
  // The way out first: with no path to a platform, every check below fails for that one reason.
  const out: Check[] = await networkChecks({ ...config, apps });
  const services = buildServices({ ...config, apps }, { retry: { policy: { attempts: 2, baseDelayMs: 200, maxDelayMs: 500 } } });
  for (const app of services.apps.values()) {
    out.push(
      ...(app.platform === 'feishu'
        ? await feishuAppChecks(app.config, app.api, config.upstreamTimeoutMs)
        : await dingtalkAppChecks(app.config, app.api, config.upstreamTimeoutMs)),
    );
  }

  try {
    const store = await openStore(config.databaseUrl);
    await store.ping();
    const waiting = await store.cards.waitingForAdmin();
    await store.close();
    out.push({ group: 'Database', name: 'store', ok: true, detail: `${redactUrl(config.databaseUrl)} reachable, schema up to date` });
    // What the running bot ran into: card writes the platform refuses until the admin acts.
    out.push(
      waiting.length === 0
        ? { group: 'Cards', name: 'updates', ok: true, detail: 'no card is waiting for the admin' }
        : {
            group: 'Cards',
            name: 'updates',
            ok: false,
            detail: waiting.map((w) => `${w.cards} card(s) cannot be updated: ${w.problem}`).join('; '),
            fix: 'grant the scope named (or renew the authorisation or quota) in the developer console and publish the app again; the cards catch up by themselves',
          },
    );
  } catch (e) {
    out.push({
      group: 'Database',
      name: 'store',
      ok: false,
      detail: e instanceof Error ? e.message : String(e),
      fix: 'check DATABASE_URL (sqlite:PATH or postgres://user@host:5432/db) and that the database is running',
    });
  }
  return out;
}
