import assert from 'node:assert/strict';
import net from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { Ssh2Connector } from '../src/adapters/ssh/ssh2-connector.js';
import { HostKeyMismatch, OperationFailed, UserError } from '../src/domain/errors.js';
import { endsWithChannel } from '../src/remote/ends-with-channel.js';
import { parsePublicKeyLine, type HostKey } from '../src/remote/known-hosts.js';
import type { HostTarget } from '../src/ports/remote-host.js';
import { ed25519Pair } from './support/keys.js';
import { tempDir } from './support/repo.js';

/** A small in-process SSH server on loopback: accepts one client key, answers `exec`. */
function sshServer(hostKey: string, clientPublicKey: string, counters: { execs: number; auths?: number }): ssh2.Server {
  const allowed = ssh2.utils.parseKey(clientPublicKey) as ssh2.ParsedKey;
  return new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) => {
      counters.auths = (counters.auths ?? 0) + 1;
      if (ctx.method === 'publickey' && ctx.key.data.equals(allowed.getPublicSSH())) return ctx.accept();
      ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          counters.execs += 1;
          const stream = acceptExec();
          stream.write(`ran: ${info.command}\n`);
          stream.exit(0);
          stream.end();
        });
      });
    });
    client.on('error', () => undefined);
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function listen(server: ssh2.Server, port: number): Promise<void> {
  return new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
}

describe('Ssh2Connector against an in-process SSH server', () => {
  const clientKeys = ed25519Pair();
  const hostKeyA = ed25519Pair();
  const hostKeyB = ed25519Pair();

  async function setup(t: Parameters<typeof tempDir>[0]) {
    const dir = await tempDir(t);
    const keyPath = path.join(dir, 'id');
    await writeFile(keyPath, clientKeys.private, { mode: 0o600 });
    const port = await freePort();
    const target: HostTarget = { name: 'h1', address: '127.0.0.1', port, username: 'root', keyPath };
    const knownHostsFile = path.join(dir, 'known_hosts');
    const connector = (accept: string[] = []) =>
      new Ssh2Connector({ knownHostsFile, connectTimeoutMs: 8000, maxHandshakes: 4, acceptChangedKeyFor: new Set(accept), agentSocket: undefined });
    return { target, knownHostsFile, connector, port, dir };
  }

  it('a host that takes the TCP connection but never speaks fails the connect; its late socket close is no crash', async (t) => {
    const { target, connector, port } = await setup(t);
    // A stalled machine: the kernel accepts, nothing answers; the socket closes later.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    await assert.rejects(connector().connect(target, { timeoutMs: 1000 }), /h1: cannot connect to 127\.0\.0\.1:\d+: timed out/);
    const crashes: unknown[] = [];
    const onCrash = (err: unknown) => void crashes.push(err);
    process.on('uncaughtException', onCrash);
    t.after(() => process.off('uncaughtException', onCrash));
    for (const socket of sockets) socket.destroy();
    // Let the closes arrive (each is one event-loop turn away).
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(crashes, [], 'a second error after giving up is not an uncaught exception');
  });

  it('retries a refused connection until the server appears, then records its key', async (t) => {
    const { target, knownHostsFile, connector, port } = await setup(t);
    const counters = { execs: 0 };
    const server = sshServer(hostKeyA.private, clientKeys.public, counters);
    t.after(() => server.close());
    const c = connector();
    t.after(() => c.closeAll());
    const connecting = c.connect(target);
    // Nothing listens yet: the first attempts are refused and must be retried.
    setTimeout(() => void listen(server, port), 700);
    const host = await connecting;
    const result = await host.exec({ argv: ['echo', 'a b'] });
    assert.equal(result.exitCode, 0);
    // Without stdin, the command is wrapped so that it ends with its channel.
    assert.equal(result.stdout.toString(), `ran: ${endsWithChannel("echo 'a b'")}\n`);
    assert.match(await readFile(knownHostsFile, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${port} ssh-ed25519 \\S+\\n$`));
  });

  it('an output callback that throws fails only its command: the connection carries on', async (t) => {
    const { target, connector, port } = await setup(t);
    const server = sshServer(hostKeyA.private, clientKeys.public, { execs: 0 });
    t.after(() => server.close());
    await listen(server, port);
    const c = connector();
    t.after(() => c.closeAll());
    const host = await c.connect(target);
    const broken = host.exec({ script: 'true' }, { onOutput: () => { throw new Error('renderer gone'); } });
    await assert.rejects(broken, /renderer gone/);
    assert.equal((await host.exec({ script: 'true' })).exitCode, 0, 'the same connection still runs commands');
  });

  it('refuses a changed host key before anything runs, and accepts it only when told to', async (t) => {
    const { target, knownHostsFile, connector, port } = await setup(t);
    const counters: { execs: number; auths?: number } = { execs: 0 };
    const first = sshServer(hostKeyA.private, clientKeys.public, counters);
    await listen(first, port);
    const c1 = connector();
    await c1.connect(target);
    await c1.closeAll();
    await new Promise<void>((resolve) => first.close(() => resolve()));
    const pinned = await readFile(knownHostsFile, 'utf8');

    const impostor = sshServer(hostKeyB.private, clientKeys.public, counters);
    t.after(() => impostor.close());
    await listen(impostor, port);
    const authsBefore = counters.auths ?? 0;
    await assert.rejects(connector().connect(target), (err: unknown) => err instanceof UserError && /host key changed/.test(err.message) && err.hints.some((h) => h.includes('--accept-host-key h1')));
    assert.equal(counters.auths ?? 0, authsBefore, 'the refusal happens before we even try to log in');
    assert.equal(await readFile(knownHostsFile, 'utf8'), pinned, 'the pinned key is kept');

    const c2 = connector(['h1']);
    t.after(() => c2.closeAll());
    const host = await c2.connect(target);
    assert.equal((await host.exec({ script: 'true' })).exitCode, 0);
    assert.notEqual(await readFile(knownHostsFile, 'utf8'), pinned, 'the new key replaced the old one');
  });

  it('a connection that expects a key accepts exactly that key, refuses any other before logging in, and pins nothing', async (t) => {
    const { target, knownHostsFile, connector, port } = await setup(t);
    const first = sshServer(hostKeyA.private, clientKeys.public, { execs: 0 });
    await listen(first, port);
    const c1 = connector();
    await c1.connect(target);
    await c1.closeAll();
    await new Promise<void>((resolve) => first.close(() => resolve()));
    const pinnedA = await readFile(knownHostsFile, 'utf8');
    const keyA = parsePublicKeyLine(hostKeyA.public) as HostKey;
    const keyB = parsePublicKeyLine(hostKeyB.public) as HostKey;
    assert.ok(keyA && keyB);

    // The machine was converted and was given key B before its reboot.
    const counters = { execs: 0, auths: 0 };
    const converted = sshServer(hostKeyB.private, clientKeys.public, counters);
    t.after(() => converted.close());
    await listen(converted, port);
    const c2 = connector();
    t.after(() => c2.closeAll());
    const host = await c2.connect(target, { hostKey: { expect: keyB } });
    assert.equal((await host.exec({ script: 'true' })).exitCode, 0);
    assert.equal(await readFile(knownHostsFile, 'utf8'), pinnedA, 'nothing is pinned before the caller verified the host');
    await assert.rejects(connector().connect(target), /host key changed/, 'a normal connection still refuses the new key');

    // Expecting A (the pinned key) while B answers: refused before authentication, not retried.
    const authsBefore = counters.auths;
    const refused = await connector()
      .connect(target, { hostKey: { expect: keyA } })
      .then(() => undefined, (err: unknown) => err);
    assert.ok(refused instanceof HostKeyMismatch, String(refused));
    assert.match(refused.message, /^h1: .* presented another host key than the one it was given before the reboot/);
    assert.ok(refused.hints.some((h) => h.includes('presented: ssh-ed25519 SHA256:')));
    assert.equal(counters.auths, authsBefore, 'our key was never offered to it');
    assert.equal(await readFile(knownHostsFile, 'utf8'), pinnedA);

    await c2.pinHostKey(target, keyB);
    const pinnedB = await readFile(knownHostsFile, 'utf8');
    assert.equal(pinnedB.trim(), `[127.0.0.1]:${port} ${keyB.type} ${keyB.base64}`, 'the old key was replaced, not kept beside the new one');
    const c3 = connector();
    t.after(() => c3.closeAll());
    assert.equal((await (await c3.connect(target)).exec({ script: 'true' })).exitCode, 0, 'the new key is now the pinned one');
    await c3.pinHostKey(target, keyB);
    assert.equal(await readFile(knownHostsFile, 'utf8'), pinnedB, 'pinning the key already pinned changes nothing');

    await c3.forgetHostKey(target);
    assert.equal((await readFile(knownHostsFile, 'utf8')).trim(), '', 'forgetting drops the host line');
  });

  it('does not retry an authentication failure, says which key was refused, and pins nothing', async (t) => {
    const { target, connector, port, knownHostsFile } = await setup(t);
    const other = ed25519Pair();
    const server = sshServer(hostKeyA.private, other.public, { execs: 0 });
    t.after(() => server.close());
    await listen(server, port);
    await assert.rejects(connector().connect(target), (err: unknown) => err instanceof OperationFailed && /authentication failed for root@127\.0\.0\.1 with/.test(err.message));
    await assert.rejects(readFile(knownHostsFile), 'a host that refused us is not pinned');
  });

  it('an accepted key change is pinned only once the login succeeded', async (t) => {
    const { target, knownHostsFile, connector, port } = await setup(t);
    await writeFile(knownHostsFile, `[127.0.0.1]:${port} ssh-ed25519 ${(ssh2.utils.parseKey(hostKeyA.public) as ssh2.ParsedKey).getPublicSSH().toString('base64')}\n`);
    const pinned = await readFile(knownHostsFile, 'utf8');
    const stranger = ed25519Pair();
    const server = sshServer(hostKeyB.private, stranger.public, { execs: 0 });
    t.after(() => server.close());
    await listen(server, port);
    await assert.rejects(connector(['h1']).connect(target), /authentication failed/);
    assert.equal(await readFile(knownHostsFile, 'utf8'), pinned);
  });

  it('parallel first contacts and replacements keep every line', async (t) => {
    const { knownHostsFile } = await setup(t);
    const { KnownHostsFile } = await import('../src/adapters/ssh/known-hosts-file.js');
    const a = new KnownHostsFile(knownHostsFile);
    const b = new KnownHostsFile(knownHostsFile); // as a second process would, with its own queue
    const key = (i: number) => ({ type: 'ssh-ed25519', base64: Buffer.from(`key-${i}`).toString('base64') });
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).record(`10.0.0.${i}`, key(i))));
    await Promise.all([a.replace('10.0.0.3', key(103)), b.replace('10.0.0.4', key(104)), a.record('10.0.0.50', key(50))]);
    const text = await readFile(knownHostsFile, 'utf8');
    assert.equal(text.trim().split('\n').length, 21);
    assert.deepEqual(await a.pinnedKeys('10.0.0.3'), [key(103)]);
    assert.deepEqual(await a.pinnedKeys('10.0.0.4'), [key(104)]);
    assert.deepEqual(await a.pinnedKeys('10.0.0.7'), [key(7)]);
  });
});
