import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeEnv, resolveEnvFile } from '../src/config/env.js';
import { selectProvider } from '../src/config/provider-detect.js';
import { UserError } from '../src/domain/errors.js';

describe('.env resolution', () => {
  const files = new Set(['/w/.env', '/w/conf/x.env', '/c/only-cwd.env', '/abs/a.env']);
  const exists = (p: string): boolean => files.has(p);
  const resolve = (envFlag: string | undefined): string | undefined => resolveEnvFile({ workingDir: '/w', cwd: '/c', envFlag, exists });

  it('defaults to <working dir>/.env, and a missing default is fine', () => {
    assert.equal(resolve(undefined), '/w/.env');
    assert.equal(resolveEnvFile({ workingDir: '/empty', cwd: '/c', envFlag: undefined, exists }), undefined);
  });

  it('uses an absolute --env as given (upstream joined it onto the working dir)', () => {
    assert.equal(resolve('/abs/a.env'), '/abs/a.env');
  });

  it('looks a relative --env up in the working dir first, then in the current dir', () => {
    assert.equal(resolve('conf/x.env'), '/w/conf/x.env');
    assert.equal(resolve('only-cwd.env'), '/c/only-cwd.env');
  });

  it('an explicit --env that matches nothing is a UserError listing where it looked', () => {
    assert.throws(() => resolve('nope.env'), (e: unknown) => e instanceof UserError && e.message.includes('/w/nope.env') && e.message.includes('/c/nope.env'));
  });

  it('values from the .env file win over the process environment', () => {
    const env = mergeEnv({ A: 'process', B: 'process' }, { A: 'file' });
    assert.equal(env.A, 'file');
    assert.equal(env.B, 'process');
  });
});

describe('provider detection', () => {
  it('servers.yaml wins over HCLOUD_TOKEN; the token alone selects Hetzner; neither explains both', () => {
    assert.deepEqual(selectProvider('/p', { HCLOUD_TOKEN: 't' }, (f) => f === '/p/servers.yaml'), { kind: 'self-hosted', serversFile: '/p/servers.yaml' });
    assert.deepEqual(selectProvider('/p', { HCLOUD_TOKEN: 't' }, () => false), { kind: 'hetzner', token: 't' });
    assert.throws(
      () => selectProvider('/p', { HCLOUD_TOKEN: '' }, () => false),
      (e: unknown) => e instanceof UserError && e.hints.some((h) => h.includes('servers.yaml')) && e.hints.some((h) => h.includes('HCLOUD_TOKEN')),
    );
  });
});
