import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { ed25519PrivatePem, ed25519PublicLine } from '../src/adapters/openssh-key-format.js';
import { Ssh2KeyFactory } from '../src/adapters/ssh2-keygen.js';
import { tempDir } from './support/repo.js';

const exec = promisify(execFile);

/** An Ed25519 private key from a 32-byte seed (PKCS#8 wrapping of the raw seed). */
function keyFromSeed(seed: Buffer) {
  const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' });
}

describe('OpenSSH key files', () => {
  it('an Ed25519 key whose public key starts with a zero byte is still valid (ssh2 got this wrong)', async (t) => {
    // Find a seed whose public key begins with 0x00 (about 1 in 256), deterministically.
    let seed = Buffer.alloc(32);
    for (let i = 0; ; i++) {
      seed = createHash('sha256').update(`seed-${i}`).digest();
      const pub = Buffer.from(keyFromSeed(seed).export({ format: 'jwk' }).x ?? '', 'base64url');
      if (pub[0] === 0) break;
    }
    const key = keyFromSeed(seed);
    const dir = await tempDir(t);
    const file = path.join(dir, 'id');
    await writeFile(file, ed25519PrivatePem(key, 'zero@test'), { mode: 0o600 });
    const derived = await exec('ssh-keygen', ['-y', '-f', file]);
    assert.equal(derived.stdout.trim(), ed25519PublicLine(key, 'zero@test').split(' ').slice(0, 2).join(' ') + ' zero@test');
    // ssh2 itself (what the CLI connects with) reads it too.
    assert.ok(!(ssh2.utils.parseKey(await readFile(file)) instanceof Error));
  });

  it('generated keys of both types are read back by ssh-keygen with the same public key and comment', async (t) => {
    const dir = await tempDir(t);
    const factory = new Ssh2KeyFactory();
    for (const type of ['ed25519', 'ed25519', 'ed25519', 'rsa'] as const) {
      const pair = await factory.generate(type, `${type}@test`);
      const file = path.join(dir, type);
      await writeFile(file, pair.privateKey.reveal(), { mode: 0o600 });
      const derived = await exec('ssh-keygen', ['-y', '-f', file]);
      assert.equal(derived.stdout.trim().split(' ').slice(0, 2).join(' '), pair.publicKey.split(' ').slice(0, 2).join(' '));
      assert.ok(pair.publicKey.endsWith(` ${type}@test`));
      assert.equal(String(pair.privateKey), '[REDACTED:ssh-private-key]');
    }
  });
});
