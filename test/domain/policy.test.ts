import { describe, expect, it } from 'vitest';
import { ACTIONS, decide, type Action, type Actor, type PolicyQuestion, type StopRule } from '../../src/domain/policy.js';

/**
 * Who may do what (README "Who may do what"), every cell: action × role × chat type ×
 * ADMIN_USER_IDS set or empty × card posted by a person or a script. The expectations are written
 * out, not computed: `✓` allowed, otherwise the refusal the person is told.
 */
const ROLES = ['asker', 'admin', 'owner', 'bystander', 'script'] as const;
type Role = (typeof ROLES)[number];
/** The columns of every row, in this order. */
const COLUMNS = [
  ['group', 'admins', 'person'],
  ['group', 'admins', 'script'],
  ['group', 'none', 'person'],
  ['group', 'none', 'script'],
  ['p2p', 'admins', 'person'],
  ['p2p', 'admins', 'script'],
  ['p2p', 'none', 'person'],
  ['p2p', 'none', 'script'],
] as const;

//                              group                                  1:1
//                      admins set        none set          admins set        none set
//                      person  script    person  script    person  script    person  script
const STOP = {
  asker: /*        */ ['✓', 'admins', '✓', 'admins', '✓', 'admins', '✓', 'admins'],
  admin: /*        */ ['✓', '✓', 'asker', 'admins', '✓', '✓', 'asker', 'admins'],
  owner: /*        */ ['✓', 'admins', '✓', 'admins', 'asker', 'admins', 'asker', 'admins'],
  bystander: /*    */ ['asker', 'admins', 'asker', 'admins', 'asker', 'admins', 'asker', 'admins'],
  script: /*       */ ['asker', '✓', 'asker', '✓', 'asker', '✓', 'asker', '✓'],
};
const TABLE: Record<Action, Record<Role, readonly string[]>> = {
  read: {
    asker: ['✓', '✓', '✓', '✓', '✓', '✓', '✓', '✓'],
    admin: ['✓', '✓', '✓', '✓', '✓', '✓', '✓', '✓'],
    owner: ['✓', '✓', '✓', '✓', '✓', '✓', '✓', '✓'],
    bystander: ['✓', '✓', '✓', '✓', '✓', '✓', '✓', '✓'],
    script: ['✓', '✓', '✓', '✓', '✓', '✓', '✓', '✓'],
  },
  stop: STOP,
  // Refresh of a stopped card resumes its updates for exactly those who may stop it.
  resume: STOP,
  'set-stop-rule': {
    asker: ['owners', 'owners', 'owners', 'owners', 'owners', 'owners', 'owners', 'owners'],
    admin: ['✓', '✓', 'owners', 'owners', '✓', '✓', 'owners', 'owners'],
    owner: ['✓', '✓', '✓', '✓', 'owners', 'owners', 'owners', 'owners'],
    bystander: ['owners', 'owners', 'owners', 'owners', 'owners', 'owners', 'owners', 'owners'],
    script: ['owners', 'owners', 'owners', 'owners', 'owners', 'owners', 'owners', 'owners'],
  },
  configure: {
    asker: ['configure', 'configure', '✓', '✓', 'configure', 'configure', '✓', '✓'],
    admin: ['✓', '✓', '✓', '✓', '✓', '✓', '✓', '✓'],
    owner: ['configure', 'configure', '✓', '✓', 'configure', 'configure', '✓', '✓'],
    bystander: ['configure', 'configure', '✓', '✓', 'configure', 'configure', '✓', '✓'],
    script: ['configure', 'configure', 'configure', 'configure', 'configure', 'configure', 'configure', 'configure'],
  },
  'see-other-chats': {
    asker: ['group', 'group', 'group', 'group', '✓', '✓', '✓', '✓'],
    admin: ['group', 'group', 'group', 'group', '✓', '✓', '✓', '✓'],
    owner: ['group', 'group', 'group', 'group', '✓', '✓', '✓', '✓'],
    bystander: ['group', 'group', 'group', 'group', '✓', '✓', '✓', '✓'],
    script: ['group', 'group', 'group', 'group', 'group', 'group', 'group', 'group'],
  },
};

const USER: Record<Exclude<Role, 'script'>, string> = { asker: 'ou_asker', admin: 'ou_admin', owner: 'ou_owner', bystander: 'ou_bystander' };
const actorOf = (role: Role): Actor => (role === 'script' ? { kind: 'script' } : { kind: 'person', userId: USER[role] });

function question(action: Action, role: Role, [chatType, admins, by]: (typeof COLUMNS)[number], o: { stopRule?: StopRule; allowed?: string[] } = {}) {
  const asked = { roles: 0, stopRule: 0 };
  const q: PolicyQuestion = {
    action,
    actor: actorOf(role),
    chatId: 'oc_chat',
    chatType,
    card: { askedBy: by === 'person' ? USER.asker : null },
    admins: admins === 'admins' ? [USER.admin] : [],
    allowedChats: o.allowed ?? [],
    stopRule: async () => (asked.stopRule++, o.stopRule ?? 'asker'),
    // The platform names the group's owner; a 1:1 chat has none (the policy must not ask there).
    roles: async () => (asked.roles++, { owner: USER.owner, managers: ['ou_manager'] }),
  };
  return { q, asked };
}

const verdict = async (q: PolicyQuestion) => {
  const v = await decide(q);
  return v.ok ? '✓' : v.refusal;
};

describe('who may do what: one policy, every cell', () => {
  for (const action of ACTIONS) {
    it(`${action}: each role, in a group and a 1:1 chat, with ADMIN_USER_IDS set and empty, on a person's and a script's card`, async () => {
      const got: Record<string, string[]> = {};
      for (const role of ROLES) got[role] = await Promise.all(COLUMNS.map((c) => verdict(question(action, role, c).q)));
      expect(got).toEqual(TABLE[action]);
    });
  }

  it("`stop anyone` opens people's cards to everyone in the chat, never a script's", async () => {
    const row = async (role: Role) => Promise.all(COLUMNS.map((c) => verdict(question('stop', role, c, { stopRule: 'anyone' }).q)));
    expect(await row('bystander')).toEqual(['✓', 'admins', '✓', 'admins', '✓', 'admins', '✓', 'admins']);
    expect(await row('script')).toEqual(['asker', '✓', 'asker', '✓', 'asker', '✓', 'asker', '✓']);
  });

  it('a chat the allowlist does not admit: nobody may do anything there, admins and scripts included', async () => {
    for (const action of ACTIONS)
      for (const role of ROLES) for (const c of COLUMNS) expect(await verdict(question(action, role, c, { allowed: ['oc_other'] }).q)).toBe('chat');
    expect(await verdict(question('read', 'bystander', COLUMNS[0], { allowed: ['oc_chat'] }).q)).toBe('✓');
  });

  it('a person the platform did not name may read and nothing more', async () => {
    for (const action of ACTIONS) {
      const { q } = question(action, 'bystander', COLUMNS[2]);
      const v = await verdict({ ...q, actor: { kind: 'person' } });
      expect(v === '✓').toBe(action === 'read' || action === 'configure');
    }
  });

  it("the platform is asked for the group's roles only when nothing cheaper decides, and never in a 1:1 chat", async () => {
    const asks = async (action: Action, role: Role, c: (typeof COLUMNS)[number]) => {
      const { q, asked } = question(action, role, c);
      await decide(q);
      return asked;
    };
    expect(await asks('stop', 'asker', COLUMNS[0])).toEqual({ roles: 0, stopRule: 0 });
    expect(await asks('stop', 'admin', COLUMNS[1])).toEqual({ roles: 0, stopRule: 0 });
    expect(await asks('stop', 'bystander', COLUMNS[0])).toEqual({ roles: 1, stopRule: 1 });
    expect(await asks('stop', 'bystander', COLUMNS[4])).toEqual({ roles: 0, stopRule: 1 });
    expect(await asks('stop', 'bystander', COLUMNS[1])).toEqual({ roles: 0, stopRule: 0 }); // a script's card
    expect(await asks('configure', 'bystander', COLUMNS[0])).toEqual({ roles: 0, stopRule: 0 });
    expect(await asks('read', 'bystander', COLUMNS[0])).toEqual({ roles: 0, stopRule: 0 });
  });

  it('when the platform cannot say who runs the group, owners are bystanders', async () => {
    const { q } = question('stop', 'owner', COLUMNS[0]);
    expect(await verdict({ ...q, roles: async () => undefined })).toBe('asker');
    expect(await verdict({ ...q, action: 'set-stop-rule', roles: async () => undefined })).toBe('owners');
    expect(await verdict({ ...q, actor: { kind: 'person', userId: 'ou_manager' } })).toBe('✓');
  });
});
