import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectNodes, type SelectableNode } from '../src/core/selectors/resolve.js';
import { selectForDestroy } from '../src/core/selectors/select-targets.js';
import { guardTiers, tierPolicy } from '../src/core/selectors/tier-guard.js';
import { UserError } from '../src/domain/errors.js';

/** Two tiers, three roles, tags on some: the same shape as the e2e inventory. */
const nodes: SelectableNode[] = [
  { name: 'web-test1', role: 'web', tier: 'test', tags: ['eu', 'canary'] },
  { name: 'web-test2', role: 'web', tier: 'test', tags: ['us'] },
  { name: 'db-test1', role: 'db', tier: 'test', tags: ['eu'] },
  { name: 'web-prod1', role: 'web', tier: 'prod', tags: ['eu'] },
  { name: 'db-prod1', role: 'db', tier: 'prod' },
  { name: 'cache-prod1', role: 'cache', tier: 'prod', tags: ['us'] },
  { name: 'bare' },
];

const pick = (...values: string[]): readonly string[] => selectNodes(nodes, values).names;

function refused(values: string[], message: RegExp): void {
  assert.throws(
    () => selectNodes(nodes, values),
    (err: unknown) => err instanceof UserError && err.exitCode === 2 && message.test(err.message),
    values.join(' | '),
  );
}

describe('selectors', () => {
  it('exact names keep their order and upstream\'s "a b" / comma / repeated forms', () => {
    assert.deepEqual(pick('db-prod1 web-test1'), ['db-prod1', 'web-test1']);
    assert.deepEqual(pick('db-prod1,web-test1'), ['db-prod1', 'web-test1']);
    assert.deepEqual(pick('db-prod1', 'web-test1', 'db-prod1'), ['db-prod1', 'web-test1']);
    assert.deepEqual(pick('  bare  '), ['bare']);
  });

  it('every form: glob, @tag, role:, tier:, all', () => {
    assert.deepEqual(pick('web-*'), ['web-test1', 'web-test2', 'web-prod1']);
    assert.deepEqual(pick('*-test?'), ['web-test1', 'web-test2', 'db-test1']);
    assert.deepEqual(pick('@eu'), ['web-test1', 'db-test1', 'web-prod1']);
    assert.deepEqual(pick('role:db'), ['db-test1', 'db-prod1']);
    assert.deepEqual(pick('tier:prod'), ['web-prod1', 'db-prod1', 'cache-prod1']);
    assert.deepEqual(pick('all'), nodes.map((n) => n.name));
  });

  it('union, intersection and exclusion (applied last)', () => {
    assert.deepEqual(pick('tier:test+role:web'), ['web-test1', 'web-test2']);
    assert.deepEqual(pick('role:cache @canary'), ['cache-prod1', 'web-test1']);
    assert.deepEqual(pick('role:db,role:cache'), ['db-test1', 'db-prod1', 'cache-prod1']);
    assert.deepEqual(pick('!web-test1 role:web'), ['web-test2', 'web-prod1']);
    assert.deepEqual(pick('all !tier:prod !bare'), ['web-test1', 'web-test2', 'db-test1']);
    assert.deepEqual(pick('tier:prod !role:db+tier:prod'), ['web-prod1', 'cache-prod1']);
    assert.deepEqual(pick('@eu+@canary'), ['web-test1']);
    assert.deepEqual(pick('web-*+tier:prod db-test1'), ['web-prod1', 'db-test1']);
  });

  it('unknown names and empty matches are errors naming them', () => {
    refused(['web-test1 web9'], /^unknown node\(s\): web9$/);
    refused(['!web9 all'], /^unknown node\(s\): web9$/);
    refused(['role:wbe'], /^selector matches no node: "role:wbe"$/);
    refused(['tier:prod+role:wbe'], /^selector matches no node: "role:wbe" \(in "tier:prod\+role:wbe"\)$/);
    refused(['tier:test+role:cache'], /^selector matches no node: "tier:test\+role:cache"$/);
    refused(['@nope'], /"@nope"/);
    refused(['api-*'], /"api-\*"/);
    refused(['web-test1 !web-test1'], /exclusions leave no node/);
    refused(['!web-test1'], /only exclusions given/);
    refused([''], /no target given/);
  });

  it('bad syntax is refused with the item named', () => {
    for (const bad of ['foo:bar', 'role:', '@', '!', 'a++b', 'web_1', 'web.*', 'tier:-x']) refused([bad], /^not a valid node name or selector: /);
  });

  it('an empty inventory names that in the hint', () => {
    assert.throws(() => selectNodes([], ['web1']), (err: UserError) => err.hints.some((h) => /lists no servers/.test(h)));
  });
});

describe('tier guard', () => {
  const policy = tierPolicy({});
  const guard = (values: string[], allowTiers: string[] = [], p = policy): void => guardTiers(nodes, selectNodes(nodes, values), p, allowTiers);

  it('test nodes pass; prod needs the tier named in the selector or --allow-tier', () => {
    guard(['tier:test+role:web']);
    guard(['web-test1 bare']);
    guard(['tier:prod+role:web']);
    guard(['web-prod1+tier:prod']);
    guard(['web-prod1 db-test1'], ['prod']);
    assert.throws(() => guard(['web-prod1 db-test1']), (err: UserError) => err.exitCode === 2 && err.message === 'protected tier prod: web-prod1: name the tier to change these nodes');
    assert.throws(() => guard(['role:db']), /protected tier prod: db-prod1:/);
    // A tier named only in an exclusion does not count.
    assert.throws(() => guard(['role:web !tier:prod+@us']), /protected tier prod: web-prod1:/);
    assert.throws(() => guard(['web-*'], ['staging']), /web-prod1/);
  });

  it('a bare all is refused unless the project allows it; all+tier is not bare', () => {
    assert.throws(() => guard(['all !tier:prod']), /bare "all"/);
    guard(['all+tier:test']);
    assert.throws(() => guard(['all'], [], tierPolicy({ allowAll: 'true' })), /protected tier prod: web-prod1, db-prod1, cache-prod1:/);
    guard(['all'], ['prod'], tierPolicy({ allowAll: 'true' }));
  });

  it('the policy comes from the settings: other tiers, none, bad values', () => {
    assert.deepEqual(tierPolicy({}), { protectedTiers: ['prod'], allowAll: false });
    assert.deepEqual(tierPolicy({ protectedTiers: 'prod, test', allowAll: 'yes' }), { protectedTiers: ['prod', 'test'], allowAll: true });
    assert.deepEqual(tierPolicy({ protectedTiers: 'none' }).protectedTiers, []);
    guard(['role:db'], [], tierPolicy({ protectedTiers: 'none' }));
    assert.throws(() => guard(['web-test1'], [], tierPolicy({ protectedTiers: 'test' })), /protected tier test: web-test1:/);
    assert.throws(() => tierPolicy({ allowAll: 'maybe' }), /ALLOW_TARGET_ALL/);
  });
});

describe('destroy selection', () => {
  const servers = nodes.map((n) => ({ ...n, address: '192.0.2.1', username: 'root', port: 22, provider: 'hetzner' }));
  const guard = { policy: tierPolicy({}), allowTiers: [] as string[] };
  it('plain names pass as given (a gone server is reported absent later); prod still needs naming', () => {
    assert.deepEqual(selectForDestroy(servers, ['web-test1 gone1'], guard), ['web-test1', 'gone1']);
    assert.throws(() => selectForDestroy(servers, ['web-prod1'], guard), /protected tier prod: web-prod1:/);
    assert.deepEqual(selectForDestroy(servers, ['web-prod1'], { ...guard, allowTiers: ['prod'] }), ['web-prod1']);
  });
  it('selectors resolve against the listing, with the guard', () => {
    assert.deepEqual(selectForDestroy(servers, ['tier:test+role:web'], guard), ['web-test1', 'web-test2']);
    assert.throws(() => selectForDestroy(servers, ['role:db'], guard), /db-prod1/);
    assert.throws(() => selectForDestroy(servers, ['role:nope'], guard), /selector matches no node/);
  });
});
