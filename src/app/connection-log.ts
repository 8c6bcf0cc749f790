import type { Logger } from 'pino';
import type { PlatformRuntime } from './platform-runtime.js';

/** How often the apps' connections are looked at for the log (a blip shorter than this is not told). */
const CHECK_MS = 250;

/**
 * One log line when an app's connection goes and one when it comes back (with how long it was
 * gone), per app: an outage of one app is told once, not per retry, and names the app. Start-up
 * (never yet connected) and refused credentials are told by the runtimes themselves.
 */
export function logConnections(runtimes: readonly PlatformRuntime[], log: Logger, now: () => number = Date.now): { stop(): void } {
  const wasUp = new Map<string, boolean>();
  const downSince = new Map<string, number>();
  const look = () => {
    for (const r of runtimes) {
      const st = r.status();
      if (wasUp.get(r.app) === st.ok) continue;
      wasUp.set(r.app, st.ok);
      if (!st.ok) {
        downSince.set(r.app, now());
        log.error(
          { app: r.app, platform: r.platform, reason: st.error },
          `the app ${r.app} (${r.platform}) is not connected: its commands wait until it is back; the other apps go on`,
        );
      } else if (downSince.has(r.app)) {
        log.info({ app: r.app, platform: r.platform, downMs: now() - downSince.get(r.app)! }, `the app ${r.app} (${r.platform}) is connected again`);
      }
    }
  };
  // Only an app seen connected can go: until then wasUp stays false, and its first connection is no "again".
  for (const r of runtimes) wasUp.set(r.app, false);
  const timer = setInterval(look, CHECK_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
