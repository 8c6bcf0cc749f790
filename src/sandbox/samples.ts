import type { TaskKind } from '../domain/task.js';
import type { Outcome, TaskScript } from './scripted-task.js';

export interface Sample {
  platform: 'feishu' | 'dingtalk';
  kind: TaskKind;
  id: string;
  outcome: Outcome;
  slow: boolean;
  description: string;
}

const hex32 = (n: number) => `5a4d${n.toString(16).padStart(28, '0')}`;

/** The sandbox's ready-made tasks: every kind, each way it can end, and a slow one. */
export const SAMPLES: Sample[] = [
  { platform: 'feishu', kind: 'contact', id: hex32(1), outcome: 'succeeded', slow: false, description: 'add 120 users — succeeds' },
  { platform: 'feishu', kind: 'contact', id: hex32(2), outcome: 'partial', slow: false, description: 'add 80 users — some fail' },
  { platform: 'feishu', kind: 'contact', id: hex32(3), outcome: 'failed', slow: false, description: 'add 50 users — fails' },
  { platform: 'feishu', kind: 'contact', id: hex32(4), outcome: 'succeeded', slow: true, description: 'add 2000 users — slow' },
  { platform: 'feishu', kind: 'drive', id: '7360595374803812356', outcome: 'succeeded', slow: false, description: 'move a folder — succeeds' },
  { platform: 'feishu', kind: 'drive', id: '7360595374803812357', outcome: 'failed', slow: false, description: 'delete a folder — fails' },
  { platform: 'feishu', kind: 'drive', id: '7360595374803812358', outcome: 'succeeded', slow: true, description: 'move a big folder — slow' },
  { platform: 'dingtalk', kind: 'storage', id: 'move-1001', outcome: 'succeeded', slow: false, description: 'bulk move — succeeds' },
  { platform: 'dingtalk', kind: 'storage', id: 'move-1002', outcome: 'partial', slow: false, description: 'bulk move — some fail' },
  { platform: 'dingtalk', kind: 'storage', id: 'move-1003', outcome: 'failed', slow: false, description: 'bulk move — fails' },
  { platform: 'dingtalk', kind: 'storage', id: 'move-1004', outcome: 'succeeded', slow: true, description: 'bulk move — slow' },
  { platform: 'dingtalk', kind: 'doc', id: 'copy-2001', outcome: 'succeeded', slow: false, description: 'copy a document — succeeds' },
  { platform: 'dingtalk', kind: 'doc', id: 'copy-2002', outcome: 'partial', slow: false, description: 'copy documents — some fail' },
  { platform: 'dingtalk', kind: 'doc', id: 'copy-2003', outcome: 'failed', slow: false, description: 'copy documents — fails' },
  { platform: 'dingtalk', kind: 'doc', id: 'copy-2004', outcome: 'succeeded', slow: true, description: 'copy a big space — slow' },
];

/** The scripted life of a sample: a few seconds queued and running, or minutes when slow. */
export function scriptOf(s: Pick<Sample, 'kind' | 'id' | 'outcome' | 'slow'>, stepMs = 2500): TaskScript {
  return {
    id: s.id,
    kind: s.kind,
    total: s.slow ? 2000 : s.kind === 'contact' ? 120 : 40,
    outcome: s.outcome,
    queuedSteps: 1,
    runningSteps: s.slow ? 24 : 4,
    advance: s.slow ? stepMs * 2 : stepMs,
    startOnFirstRead: true,
    ...(s.outcome === 'failed' && { failMessage: '目标文件夹已被删除 (target folder was deleted)' }),
  };
}

let next = 0;

/** A new task of a kind, for the console's "start a task" button. */
export function newSample(kind: TaskKind, outcome: Outcome): Sample {
  next++;
  const id =
    kind === 'contact'
      ? `6e65${(Date.now() * 1000 + next).toString(16).padStart(28, '0')}`
      : kind === 'drive'
        ? `${Date.now()}${next}`
        : `${kind === 'doc' ? 'copy' : 'move'}-${Date.now().toString(36)}${next}`;
  return {
    platform: kind === 'contact' || kind === 'drive' ? 'feishu' : 'dingtalk',
    kind,
    id,
    outcome,
    slow: false,
    description: `new ${kind} task — ${outcome}`,
  };
}
