import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { yieldIfBusy } from '../domain/slice.js';

/**
 * SQLite answers without touching the event loop, and every caller waiting for its one
 * connection resumes on a microtask: two dozen chains of store calls (round workers, queued
 * card turns) would run back to back for tens of milliseconds. Each query is a point where the
 * slice may end, so people's commands and timers get in every few milliseconds.
 */
export class YieldPlugin implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    await yieldIfBusy();
    return args.result;
  }
}
