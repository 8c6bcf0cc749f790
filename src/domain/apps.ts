import { TaskbotError } from './errors.js';
import type { Platform } from './task.js';

/** An app id: stable, since stored data is keyed by it. */
export const APP_ID = /^[a-z0-9-]{1,32}$/;

/** A served app as the core knows it: its id and platform (DESIGN §8). */
export interface AppRef {
  id: string;
  platform: Platform;
}

/**
 * The app a script or the CLI means: the one it names, else the only app of `platform`. An app
 * not served, of another platform, or left out where several could be meant is an error that
 * lists the choices.
 */
export function pickApp(apps: readonly AppRef[], platform: Platform, id?: string): AppRef {
  const ofPlatform = apps.filter((a) => a.platform === platform);
  const names = ofPlatform.map((a) => a.id).join(', ') || 'none';
  if (id !== undefined) {
    const app = ofPlatform.find((a) => a.id === id);
    if (app) return app;
    throw new TaskbotError('NOT_CONFIGURED', `no ${platform} app "${id}" is configured (${platform} apps: ${names})`, { app: id, platform });
  }
  if (ofPlatform.length === 1) return ofPlatform[0]!;
  if (ofPlatform.length === 0) throw new TaskbotError('NOT_CONFIGURED', `${platform} is not configured on this taskbot`, { platform });
  throw new TaskbotError('INVALID_ARGUMENT', `several ${platform} apps are configured: name one with "app" (${names})`, { platform });
}
