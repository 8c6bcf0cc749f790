import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** How often the background connection copies the WAL into the database (and syncs both): at most this much is lost to a power cut. */
export const CHECKPOINT_EVERY_MS = 1000;
/** SQLite's own default, put back when the background connection is gone. */
const AUTOCHECKPOINT_PAGES = 1000;
/** How long a stopping checkpointer may take to close its connection before it is cut off. */
const STOP_DEADLINE_MS = 2000;

/*
 * The worker, as a script: vitest runs our TypeScript but not a worker's, so it is not a module
 * of its own. better-sqlite3 comes by the path the main thread resolved. A PASSIVE checkpoint
 * never waits for the main connection and never makes it wait. SQLite's own error class does not
 * cross threads: the worker's failure is a plain Error naming its code.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const db = new (require(workerData.driver))(workerData.path, { fileMustExist: true });
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); }
  catch (e) { clearInterval(timer); db.close(); throw new Error(e.code + ': ' + e.message); }
}, workerData.everyMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
parentPort.postMessage('ready');
`;

export interface WalCheckpointer {
  /** Ends the background connection; the main one checkpoints again, as when it closes. */
  stop(): Promise<void>;
}

/**
 * SQLite checkpoints on the connection whose commit filled the WAL to 1000 pages: it copies them
 * into the database and fsyncs, a few milliseconds on a local disk and tens on network storage,
 * with our one thread blocked (every ~160 commands, a command answered that much later; found by
 * tracing fsync in the command benchmark). Here a connection on a worker thread checkpoints every
 * second instead and the main connection never does. If that worker fails, the main connection
 * takes the work back (and `onFailed` is told), so the WAL never grows without bound.
 */
export function startWalCheckpointer(main: BetterSqlite3.Database, path: string, onFailed: (e: Error) => void, everyMs = CHECKPOINT_EVERY_MS): WalCheckpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { driver, path, everyMs } });
  // A store nobody closed must not keep the process alive.
  worker.unref();
  let stopping = false;
  let handing = false;
  const takeBack = (e: Error) => {
    if (stopping || handing) return;
    handing = true;
    if (main.open) main.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    onFailed(e);
  };
  worker.on('message', () => main.open && !handing && main.pragma('wal_autocheckpoint = 0'));
  worker.on('error', takeBack);
  worker.on('exit', (code) => takeBack(new Error(`the SQLite checkpoint thread ended (exit code ${code})`)));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      if (stopping) return exited;
      stopping = true;
      if (main.open) main.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      worker.postMessage('stop');
      const cut = setTimeout(() => void worker.terminate(), STOP_DEADLINE_MS);
      await exited;
      clearTimeout(cut);
    },
  };
}
