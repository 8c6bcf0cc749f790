import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mayStop, type ChatRoles, type StopQuestion } from '../../src/domain/stop-rule.js';

const roles = (r?: ChatRoles) => {
  let asked = 0;
  return { get: async () => (asked++, r), asked: () => asked };
};

describe('who may stop a card', () => {
  const base: StopQuestion = { askedBy: 'ou_alice', userId: 'ou_bob', admins: ['ou_admin'], rule: 'asker' };

  it('the asker and listed admins may, without asking the platform', async () => {
    const r = roles({ owner: 'ou_owner', managers: [] });
    expect(await mayStop({ ...base, userId: 'ou_alice' }, r.get)).toEqual({ ok: true });
    expect(await mayStop({ ...base, userId: 'ou_admin' }, r.get)).toEqual({ ok: true });
    expect(r.asked()).toBe(0);
  });

  it("the group's owner and managers may; anyone else is refused, naming the asker", async () => {
    const r = roles({ owner: 'ou_owner', managers: ['ou_mgr'] });
    expect(await mayStop({ ...base, userId: 'ou_owner' }, r.get)).toEqual({ ok: true });
    expect(await mayStop({ ...base, userId: 'ou_mgr' }, r.get)).toEqual({ ok: true });
    expect(await mayStop(base, r.get)).toEqual({ ok: false, who: 'asker' });
  });

  it('when the platform cannot say who runs the group, the asker and admins decide', async () => {
    expect(await mayStop({ ...base, userId: 'ou_owner' }, roles(undefined).get)).toEqual({ ok: false, who: 'asker' });
  });

  it("a script's card: admins and the group's roles only, whatever the chat's rule", async () => {
    const r = roles({ owner: 'ou_owner', managers: [] });
    const script = { ...base, askedBy: null, rule: 'anyone' as const };
    expect(await mayStop(script, r.get)).toEqual({ ok: false, who: 'admins' });
    expect(await mayStop({ ...script, userId: 'ou_admin' }, r.get)).toEqual({ ok: true });
    expect(await mayStop({ ...script, userId: 'ou_owner' }, r.get)).toEqual({ ok: true });
  });

  it('an empty ADMIN_USER_IDS names nobody (unlike chat settings, where it means everyone)', async () => {
    expect(await mayStop({ ...base, admins: [] }, roles(undefined).get)).toEqual({ ok: false, who: 'asker' });
  });

  it('a press without a user id is refused', async () => {
    const { userId: _u, ...anon } = base;
    expect(await mayStop({ ...anon, rule: 'anyone' }, roles({ owner: 'ou_bob', managers: [] }).get)).toEqual({ ok: false, who: 'asker' });
  });

  it("`stop anyone` opens a chat's asked-for cards to everyone", async () => {
    expect(await mayStop({ ...base, rule: 'anyone' }, roles(undefined).get)).toEqual({ ok: true });
  });

  it('allowed exactly when the user is an admin, the owner, a manager, the asker, or anyone may (random cases)', async () => {
    const id = fc.constantFrom('u1', 'u2', 'u3', 'u4');
    await fc.assert(
      fc.asyncProperty(fc.option(id, { nil: null }), fc.option(id, { nil: undefined }), fc.array(id), fc.constantFrom('asker' as const, 'anyone' as const), fc.option(fc.record({ owner: id, managers: fc.array(id) }), { nil: undefined }), async (askedBy, userId, admins, rule, r) => {
          const v = await mayStop({ askedBy, ...(userId && { userId }), admins, rule }, async () => r);
          const expected = !!userId && (admins.includes(userId) || (askedBy !== null && (askedBy === userId || rule === 'anyone')) || r?.owner === userId || !!r?.managers.includes(userId));
          expect(v.ok).toBe(expected);
          if (!v.ok) expect(v.who).toBe(askedBy === null ? 'admins' : 'asker');
        }),
    );
  });
});
