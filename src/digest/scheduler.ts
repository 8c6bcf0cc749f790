import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CardModel } from '../domain/card.js';
import { chatKey, messengerOf, type ChatRef, type Messengers } from '../domain/chat.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { asTaskbotError } from '../domain/errors.js';
import { backoffDelay } from '../http/retry.js';
import type { ReportSubmission, ReportWindow } from '../domain/report.js';
import type { Platform } from '../domain/task.js';
import type { Telemetry } from '../domain/telemetry.js';
import { errorLine } from '../i18n/messages.js';
import type { Locale } from '../domain/locale.js';
import type { DigestRow, Store } from '../store/store.js';
import { chatLocale, getChatSettings } from '../store/chat-settings.js';
import { chatTasks, digestCard, type ReportSummary } from './builder.js';
import { latestFireAtOrBefore, MIN_DIGEST_INTERVAL_MS, nextFire } from './schedule.js';
import { LeaseKeeper, LeaseLost } from '../domain/lease-keeper.js';

/** A digest whose send keeps failing is tried this often (backoff from 30 s to 8 min), then skipped. */
const MAX_DIGEST_ATTEMPTS = 5;
const DIGEST_RETRY = { attempts: MAX_DIGEST_ATTEMPTS, baseDelayMs: 30_000, maxDelayMs: 8 * 60_000 };

/** A digest lists at most this many ended cards of its period (its groups say "and N more" past 15 lines each). */
const DIGEST_ENDED_CARDS = 500;

/** Where report submissions come from (Feishu apps only), each app's its own. */
export interface ReportSource {
  submissions(app: string, w: ReportWindow): Promise<ReportSubmission[]>;
}

export interface DigestDeps {
  store: Store;
  messengers: Messengers;
  reports?: ReportSource;
  clock?: Clock;
  logger?: Logger;
  telemetry?: Pick<Telemetry, 'digestRun'>;
  owner?: string;
  /** A digest missed by less than this while we were down fires once; older ones are skipped. */
  catchUpMs?: number;
  leaseMs?: number;
  tickMs?: number;
}

export interface Schedule {
  cron: string;
  spec: string;
  timeZone: string;
}

/**
 * Per-chat digests on cron schedules in their own time zones. Due digests are claimed with a
 * lease (no two replicas send one), and a firing is recorded only after it was sent: a failed
 * send is retried, and a restart loses none.
 */
export class DigestScheduler {
  readonly owner: string;
  private readonly clock: Clock;
  private running = false;
  private loop?: Promise<void>;
  private wake?: AbortController;

  /** The digests this scheduler is firing, their leases renewed while they are (report paging can be slow) and checked before the send. */
  private readonly leases: LeaseKeeper;

  constructor(private readonly d: DigestDeps) {
    const owner = d.owner ?? `digest-${randomUUID()}`;
    this.owner = owner;
    this.clock = d.clock ?? systemClock;
    this.leases = new LeaseKeeper({
      leaseMs: d.leaseMs ?? 60_000,
      clock: this.clock,
      renew: (keys, until) => d.store.digests.renew(keys, owner, until),
      what: 'digests being sent',
      ...(d.logger && { logger: d.logger }),
    });
  }

  async set(chat: ChatRef, s: Schedule, locale: Locale): Promise<number> {
    const now = this.clock.now();
    const next = nextFire(s.cron, s.timeZone, now);
    await this.d.store.digests.upsert({
      chat_key: chatKey(chat),
      app: chat.app,
      platform: chat.platform,
      chat_id: chat.chatId,
      cron: s.cron,
      time_zone: s.timeZone,
      locale,
      spec: s.spec,
      last_fired_at: null,
      next_fire_at: next,
      planned_at: now,
      created_at: now,
    });
    return next;
  }

  off(chat: ChatRef): Promise<boolean> {
    return this.d.store.digests.delete(chatKey(chat));
  }

  get(chat: ChatRef): Promise<DigestRow | undefined> {
    return this.d.store.digests.get(chatKey(chat));
  }

  /** The digest for a chat covering `since` until now. */
  async build(chat: ChatRef, locale: Locale, timeZone: string, since: number): Promise<CardModel> {
    const now = this.clock.now();
    // Every task still running, whatever came after it, and what ended in the period.
    const { cards: rows } = await this.d.store.cards.overview({ app: chat.app, chatId: chat.chatId, since, endedLimit: DIGEST_ENDED_CARDS });
    let reports: ReportSummary | undefined;
    if (chat.platform === 'feishu' && this.d.reports) {
      const window = { from: new Date(since), to: new Date(now) };
      try {
        reports = { ...window, submissions: await this.d.reports.submissions(chat.app, window) };
      } catch (e) {
        // A missing report scope must not cost the chat its task digest.
        const err = asTaskbotError(e);
        reports = { ...window, unavailable: errorLine(err, locale) };
      }
    }
    return digestCard(chatTasks(rows), { locale, timeZone, since: new Date(since), ...(reports && { reports }) });
  }

  /** One round: fire (or skip) every due digest. Returns how many were sent. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    const asked = this.clock.mono();
    const due = await this.d.store.digests.claimDue(this.owner, now, this.leases.until());
    let fired = 0;
    for (const row of due) {
      this.leases.hold(row.chat_key, asked);
      try {
        if (row.next_fire_at > now) await this.replan(row, now);
        else if (await this.fireOrSkip(row, now)) fired++;
      } catch (e) {
        if (e instanceof LeaseLost) this.d.logger?.info({ chat: row.chat_key }, 'lost the lease of a digest before sending it; its new holder sends it');
        else this.d.logger?.error({ err: e, chat: row.chat_key }, 'digest round failed for a chat');
      } finally {
        this.leases.drop(row.chat_key);
      }
    }
    return fired;
  }

  /**
   * The clock went back past the moment this digest's next firing was worked out (it was ahead
   * then): a firing that clock had already left behind may lie ahead now, so the next one is worked
   * out again from now. One already sent is not sent again (last_fired_at, in fireOrSkip).
   */
  private async replan(row: DigestRow, now: number): Promise<void> {
    const next = nextFire(row.cron, row.time_zone, now);
    this.d.logger?.info(
      { chat: row.chat_key, was: row.next_fire_at, next, plannedAt: row.planned_at },
      'the clock went back since this digest was planned: planned again',
    );
    await this.d.store.digests.replan(row.chat_key, this.owner, next, now);
  }

  /**
   * Sends a due digest and only then records it as sent; a failed send keeps it due and is tried
   * again with backoff (also by another replica, or after a restart) a few times, then given up.
   */
  private async fireOrSkip(row: DigestRow, now: number): Promise<boolean> {
    const latest = latestFireAtOrBefore(row.cron, row.time_zone, row.next_fire_at, now);
    const next = nextFire(row.cron, row.time_zone, now);
    // The floor holds for every firing, also where parseSchedule could not see it coming: a schedule
    // stored before the whole day was checked, two times brought together by a DST change.
    const fire =
      latest !== undefined &&
      now - latest < (this.d.catchUpMs ?? 3600_000) &&
      (row.last_fired_at === null || latest - row.last_fired_at >= MIN_DIGEST_INTERVAL_MS);
    if (!fire) {
      this.d.logger?.info(
        { chat: row.chat_key, missed: latest, lastFired: row.last_fired_at },
        'digest missed by more than the catch-up window, or within 5 minutes of the last one sent; skipped',
      );
      await this.d.store.digests.complete(row.chat_key, this.owner, null, next, now);
      return false;
    }
    const chat = { app: row.app, platform: row.platform as Platform, chatId: row.chat_id };
    try {
      // The chat's language now (`lang`), else the one the digest was set in.
      const locale = await chatLocale({ get: (c) => getChatSettings(this.d.store, c) }, chat, row.locale as Locale, this.d.logger);
      const card = await this.build(chat, locale, row.time_zone, row.last_fired_at ?? row.created_at);
      const messenger = messengerOf(this.d.messengers, chat.app);
      // Still ours after building it (report pages can take a while): else its new holder sends it.
      await this.leases.guard(row.chat_key);
      await messenger.sendDigest(chat, card, `digest:${row.chat_key}:${latest}`);
    } catch (e) {
      if (e instanceof LeaseLost) throw e;
      const err = asTaskbotError(e);
      const attempts = row.failed_attempts + 1;
      this.d.telemetry?.digestRun('failed');
      if (!err.retryable || attempts >= MAX_DIGEST_ATTEMPTS) {
        this.d.logger?.error({ code: err.code, err: err.toJSON(), chat: row.chat_key, attempts }, 'digest could not be sent; this one is given up');
        await this.d.store.digests.complete(row.chat_key, this.owner, null, next, now);
      } else {
        const wait = backoffDelay(attempts, DIGEST_RETRY, Math.random, err.details.retryAfterMs);
        this.d.logger?.warn({ code: err.code, err: err.toJSON(), chat: row.chat_key, attempts, retryInMs: wait }, 'digest send failed; will retry');
        await this.d.store.digests.retry(row.chat_key, this.owner, attempts, now + wait);
      }
      return false;
    }
    await this.d.store.digests.complete(row.chat_key, this.owner, latest, next, now);
    this.d.telemetry?.digestRun('sent');
    return true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.leases.start();
    this.loop = (async () => {
      while (this.running) {
        await this.tick().catch((e) => this.d.logger?.error({ err: e }, 'digest round failed'));
        if (this.running) {
          this.wake = new AbortController();
          await this.clock.sleep(this.d.tickMs ?? 1000, this.wake.signal).catch(() => undefined);
        }
      }
    })();
  }

  /** Finishes the round in flight, then gives up its leases so another replica can take over at once. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.abort();
    await this.loop;
    this.leases.stop();
    await this.d.store.digests.release(this.owner).catch((e) => this.d.logger?.warn({ err: e }, 'could not release digest leases'));
  }
}
