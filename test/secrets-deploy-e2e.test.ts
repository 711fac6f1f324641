import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Ssh2Connector } from '../src/adapters/ssh/ssh2-connector.js';
import { ManifestKey, syncSecrets, type SecretsSyncResult } from '../src/core/deploy/secrets-sync.js';
import { UserError } from '../src/domain/errors.js';
import { SecretValue } from '../src/domain/secret-value.js';
import type { RemoteHost } from '../src/ports/remote-host.js';
import { parseManifest } from '../src/remote/secrets.js';
import { tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox, type Sandbox } from './support/sandbox.js';

const skip = canRunSandbox() ? false : 'sandbox hosts need root';

/** Every byte but NUL, and a marker that makes a stray copy findable. */
function binaryValue(marker: string): Buffer {
  const bytes = Buffer.alloc(255 * 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i % 255) + 1;
  return Buffer.concat([Buffer.from(marker), bytes, Buffer.from(marker)]);
}

async function localPs(): Promise<string> {
  return new Promise((resolve) => {
    const ps = spawn('ps', ['-eo', 'args']);
    let text = '';
    ps.stdout.on('data', (c: Buffer) => (text += c.toString()));
    ps.on('close', () => resolve(text));
  });
}

/** The credential decrypted on the host by the real systemd-creds, as bytes (base64 over the pipe). */
async function decrypt(sandbox: Sandbox, host: string, name: string): Promise<Buffer> {
  const done = await sandbox.exec(host, ['bash', '-c', 'set -o pipefail; systemd-creds decrypt --name="$1" "/root/secrets/$1" - | base64 -w0', 'decrypt', name]);
  assert.equal(done.code, 0, `${host} ${name}: ${done.stderr}`);
  return Buffer.from(done.stdout, 'base64');
}

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const rel of (await readdir(dir, { recursive: true })).map(String)) {
    const full = path.join(dir, rel);
    const info = await stat(full).catch(() => undefined);
    if (info?.isFile()) found.push(full);
  }
  return found;
}

describe('deploying secrets to sandbox hosts', { skip, timeout: 240_000 }, () => {
  it('encrypts on each node with systemd-creds, sends only changes, removes what is no longer referenced, never leaks', async (t) => {
    const sandbox = await startSandbox(t, { hosts: 3 });
    const dir = await tempDir(t, 'nix-infra-secrets-e2e-');
    const connector = new Ssh2Connector({
      knownHostsFile: path.join(dir, 'known_hosts'),
      connectTimeoutMs: 20_000,
      maxHandshakes: 4,
      acceptChangedKeyFor: new Set(),
      agentSocket: undefined,
    });
    t.after(() => connector.closeAll());
    const hosts: RemoteHost[] = await Promise.all(
      sandbox.hosts.map((h) => connector.connect({ name: h.name, address: h.ip, port: 22, username: 'root', keyPath: sandbox.keyPath })),
    );

    const tag = randomBytes(8).toString('hex');
    const values = new Map<string, Buffer>([
      ['db.password', Buffer.from(`pw-${tag}-plain`)],
      ['app.config', Buffer.from(`first ${tag} line\n'single' "double" $(touch /root/canary) \`touch /root/canary2\` \\back\n\n`)],
      ['blob.bin', binaryValue(`bin-${tag}`)],
      ['github-netrc', Buffer.from(`machine github.com login bot password netrc-${tag}\n`)],
    ]);
    const regular = ['db.password', 'app.config', 'blob.bin'];
    const preBuild = ['github-netrc'];
    const key = await ManifestKey.derive(new SecretValue('SECRETS_PASS', `e2e-${tag}`));
    let asked = 0;
    const valueFor = async (name: string) => {
      asked += 1;
      const value = values.get(name);
      if (value === undefined) throw new UserError(`secret "${name}" not found`);
      return new SecretValue(name, value);
    };
    const syncAll = (secrets: string[], pre: string[] = preBuild): Promise<SecretsSyncResult[]> =>
      Promise.all(hosts.map((host) => syncSecrets(host, { secrets, preBuild: pre, valueFor, key })));
    /** Everything a leak could be found by: the values, and the text markers inside them. */
    const needles = (): Buffer[] => [...values.values(), Buffer.from(tag)];

    // First deploy, with ps sampled on every host and locally while it runs. A systemd-creds
    // ahead of the real one on PATH holds each encrypt until the test has seen it in ps (a fact,
    // not a sleep): the samples are taken while the process that receives a secret exists.
    const hold = '/root/hold-creds';
    const shim = `#!/bin/sh\nwhile [ -e ${hold} ]; do sleep 0.05; done\nexec /usr/bin/systemd-creds "$@"\n`;
    for (const h of sandbox.hosts) {
      await sandbox.exec(h.name, ['sh', '-c', `cat > /usr/local/sbin/systemd-creds && chmod 755 /usr/local/sbin/systemd-creds && touch ${hold}`], shim);
    }
    let running = true;
    const deploy = syncAll(regular).finally(() => (running = false));
    const seenEncrypting = new Set<string>();
    while (running) {
      const remote = await Promise.all(sandbox.hosts.map(async (h) => [h.name, (await sandbox.exec(h.name, ['ps', '-eo', 'args'])).stdout] as const));
      for (const text of [await localPs(), ...remote.map(([, out]) => out)]) assert.ok(!text.includes(tag), `ps shows a secret:\n${text}`);
      for (const [host, out] of remote) if (/systemd-creds encrypt --name=/.test(out)) seenEncrypting.add(host);
      if (seenEncrypting.size === sandbox.hosts.length) {
        for (const h of sandbox.hosts) await sandbox.exec(h.name, ['rm', '-f', hold, '/usr/local/sbin/systemd-creds']);
      }
    }
    const first = await deploy;
    assert.deepEqual([...seenEncrypting].sort(), sandbox.hosts.map((h) => h.name).sort(), 'ps was sampled during an encrypt on every host');
    for (const result of first) {
      assert.deepEqual(result, {
        sent: ['app.config', 'blob.bin', 'db.password', 'github-netrc'],
        unchanged: [],
        removed: [],
        preBuild: { sent: ['github-netrc'], unchanged: [], removed: [] },
      });
    }

    for (const h of sandbox.hosts) {
      for (const [name, value] of values) assert.ok((await decrypt(sandbox, h.name, name)).equals(value), `${h.name} ${name}`);
      // Plain decrypt to stdout gives the text value exactly, as the brief's check does.
      const plain = await sandbox.exec(h.name, ['systemd-creds', 'decrypt', '--name=app.config', '/root/secrets/app.config', '-']);
      assert.equal(plain.stdout, values.get('app.config')?.toString('utf8'));
      const modes = await sandbox.exec(h.name, ['sh', '-c', 'cd /root/secrets && stat -c "%n %a %U" . * .nix-infra-hashes']);
      assert.deepEqual(modes.stdout.trim().split('\n').sort(), [
        '. 700 root',
        '.nix-infra-hashes 600 root',
        'app.config 600 root',
        'blob.bin 600 root',
        'db.password 600 root',
        'github-netrc 600 root',
      ]);
      const keys = await sandbox.exec(h.name, ['stat', '-c', '%n %a %U', '/run/keys', '/run/keys/github-netrc']);
      assert.deepEqual(keys.stdout.trim().split('\n'), ['/run/keys 700 root', '/run/keys/github-netrc 400 root']);
      const netrc = await sandbox.exec(h.name, ['cat', '/run/keys/github-netrc']);
      assert.equal(netrc.stdout, values.get('github-netrc')?.toString('utf8'));
      for (const canary of ['canary', 'canary2']) assert.notEqual((await sandbox.exec(h.name, ['test', '-e', `/root/${canary}`])).code, 0);
    }

    // The plaintext is nowhere in what the hosts wrote to disk (/run is tmpfs, not in the upper dir).
    // A control value written on each host the ordinary way shows that the scan would see a leak.
    const control = Buffer.from(`control-${randomBytes(8).toString('hex')}`);
    for (const h of sandbox.hosts) {
      await sandbox.exec(h.name, ['sh', '-c', 'cat > /root/scan-control'], control);
      const files = await filesUnder(h.upperDir);
      assert.ok(files.includes(path.join(h.upperDir, 'root', 'secrets', 'blob.bin')), `${h.name}: the scan sees the credentials`);
      assert.ok(files.some((f) => f.endsWith(path.join('var', 'lib', 'systemd', 'credential.secret'))), `${h.name}: its own credential key`);
      const hits: string[] = [];
      for (const file of files) {
        const content = await readFile(file);
        if (content.includes(control)) hits.push(path.relative(h.upperDir, file));
        for (const needle of needles()) assert.equal(content.indexOf(needle), -1, `${h.name}: plaintext found in ${file}`);
      }
      assert.deepEqual(hits, ['root/scan-control'], `${h.name}: the control value is found`);
      await sandbox.exec(h.name, ['rm', '/root/scan-control']);
    }

    // Nothing changed: nothing is sent.
    for (const result of await syncAll(regular)) {
      assert.deepEqual(result, {
        sent: [],
        unchanged: ['app.config', 'blob.bin', 'db.password', 'github-netrc'],
        removed: [],
        preBuild: { sent: [], unchanged: ['github-netrc'], removed: [] },
      });
    }

    // One changed value: only that one is sent, and decrypts to the new value.
    values.set('db.password', Buffer.from(`pw-${tag}-rotated`));
    for (const result of await syncAll(regular)) {
      assert.deepEqual([result.sent, result.unchanged, result.removed], [['db.password'], ['app.config', 'blob.bin', 'github-netrc'], []]);
    }
    for (const h of sandbox.hosts) assert.equal((await decrypt(sandbox, h.name, 'db.password')).toString(), `pw-${tag}-rotated`);

    // A reference dropped: the file and its manifest entry go; so does an unreferenced pre-build key.
    for (const result of await syncAll(['db.password', 'app.config'], [])) {
      assert.deepEqual(result, {
        sent: [],
        unchanged: ['app.config', 'db.password'],
        removed: ['blob.bin', 'github-netrc'],
        preBuild: { sent: [], unchanged: [], removed: ['github-netrc'] },
      });
    }
    for (const h of sandbox.hosts) {
      const listing = await sandbox.exec(h.name, ['ls', '-A', '/root/secrets', '/run/keys']);
      assert.equal(listing.stdout, '/root/secrets:\n.nix-infra-hashes\napp.config\ndb.password\n\n/run/keys:\n.nix-infra-hashes\n');
      const manifest = (await sandbox.exec(h.name, ['cat', '/root/secrets/.nix-infra-hashes'])).stdout;
      assert.deepEqual([...parseManifest(manifest).keys()], ['app.config', 'db.password']);
    }

    // A name that could leave /root/secrets is refused before anything reaches a node.
    const snapshot = () =>
      Promise.all(
        sandbox.hosts.map(async (h) => {
          const written = await Promise.all(
            (await readdir(h.upperDir, { recursive: true })).map(String).sort().map(async (rel) => {
              const info = await stat(path.join(h.upperDir, rel)).catch(() => undefined);
              return `${rel} ${info?.size} ${info?.mtimeMs}`;
            }),
          );
          const keys = (await sandbox.exec(h.name, ['ls', '-lA', '--time-style=+%s.%N', '/run/keys'])).stdout;
          return [...written, keys];
        }),
      );
    const before = await snapshot();
    for (const bad of ['../evil', 'sub/evil', '..']) {
      let execs = 0;
      const counting: RemoteHost = {
        target: hosts[0]?.target ?? assert.fail('no host'),
        exec: (command, options) => ((execs += 1), (hosts[0] as RemoteHost).exec(command, options)),
        files: () => (hosts[0] as RemoteHost).files(),
        forward: (h, p) => (hosts[0] as RemoteHost).forward(h, p),
        shell: (pty) => (hosts[0] as RemoteHost).shell(pty),
        closed: (hosts[0] as RemoteHost).closed,
        close: () => undefined,
      };
      asked = 0;
      await assert.rejects(syncSecrets(counting, { secrets: ['db.password', bad], preBuild: [], valueFor, key }), UserError);
      await assert.rejects(syncSecrets(counting, { secrets: ['db.password'], preBuild: [bad], valueFor, key }), UserError);
      assert.equal(execs, 0, bad);
      assert.equal(asked, 0, 'no value was read');
    }
    assert.deepEqual(await snapshot(), before, 'nothing changed on any host');
  });
});
