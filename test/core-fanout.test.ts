import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { forEachHost, reusingConnections } from '../src/core/remote/fanout.js';
import { stoppableConnector } from '../src/core/remote/stoppable-connector.js';
import { runCommand } from '../src/core/remote/run-command.js';
import { uploadTree } from '../src/core/remote/upload.js';
import { OperationFailed } from '../src/domain/errors.js';
import type { LocalEntry, LocalFiles } from '../src/ports/local-files.js';
import type { ProgressEvent, Reporter } from '../src/ports/reporter.js';
import type { ExecResult, HostConnector, HostTarget, RemoteFiles, RemoteHost } from '../src/ports/remote-host.js';
import { createBudget, createLimiter, forEachLimited } from '../src/util/concurrency.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function targets(n: number): HostTarget[] {
  return Array.from({ length: n }, (_, i) => ({ name: `h${i + 1}`, address: `10.0.0.${i + 1}`, port: 22, username: 'root', keyPath: '/k' }));
}

class Events implements Reporter {
  readonly events: ProgressEvent[] = [];
  emit(event: ProgressEvent): void {
    this.events.push(event);
  }
}

/** An in-memory fleet: each host runs `behaviour` for exec and records files written. */
function fakeFleet(behaviour: (host: string, script: string) => Promise<ExecResult>, refuse: Set<string> = new Set()) {
  const written = new Map<string, Map<string, Buffer>>();
  let active = 0;
  let peak = 0;
  const connector: HostConnector = {
    async connect(target) {
      if (refuse.has(target.name)) throw new OperationFailed(`${target.name}: cannot connect to ${target.address}:22: connection refused`);
      active += 1;
      peak = Math.max(peak, active);
      const files = new Map<string, Buffer>();
      written.set(target.name, files);
      const remoteFiles: RemoteFiles = {
        stat: async () => undefined,
        mkdirp: async () => undefined,
        remove: async () => undefined,
        async writeFile(path, source) {
          await tick();
          if (Buffer.isBuffer(source)) files.set(path, source);
          else {
            const chunks: Buffer[] = [];
            for await (const c of source) chunks.push(c as Buffer);
            files.set(path, Buffer.concat(chunks));
          }
        },
      };
      const host: RemoteHost = {
        target,
        exec: async (command, options) => {
          try {
            const result = await behaviour(target.name, 'script' in command ? command.script : command.argv.join(' '));
            // Deliver output in two uneven chunks, as a network would.
            const cut = Math.floor(result.stdout.length / 2);
            options?.onOutput?.('stdout', result.stdout.subarray(0, cut));
            options?.onOutput?.('stdout', result.stdout.subarray(cut));
            if (result.stderr.length > 0) options?.onOutput?.('stderr', result.stderr);
            return result;
          } finally {
            active -= 1;
          }
        },
        files: async () => remoteFiles,
        forward: async () => {
          throw new Error('not used');
        },
        shell: async () => {
          throw new Error('not used');
        },
        closed: new Promise(() => undefined),
        close: () => undefined,
      };
      return host;
    },
    closeAll: async () => undefined,
    pinHostKey: async () => undefined,
    forgetHostKey: async () => undefined,
  };
  return { connector, written, peak: () => peak, active: () => active };
}

const ok = (stdout: string): ExecResult => ({ exitCode: 0, stdout: Buffer.from(stdout), stderr: Buffer.alloc(0) });

describe('fan-out over hosts (in-memory hosts)', () => {
  it('runs every host, keeps target order, isolates failures and reports their tails', async () => {
    const fleet = fakeFleet(async (host) => {
      // Each host waits until a second one runs beside it, so a pool that ran hosts one by one
      // shows peak 1. Bounded by a count of event-loop turns, so such a pool fails the peak
      // assertion below instead of hanging; the last host has nobody left to wait for.
      for (let turn = 0; turn < 50 && fleet.active() < 2; turn++) await tick();
      if (host === 'h2') return { exitCode: 3, stdout: Buffer.from('partial\n'), stderr: Buffer.from('boom\n') };
      return ok(`hello from ${host}\nsecond line`);
    }, new Set(['h4']));
    const reporter = new Events();
    const outcomes = await runCommand({ connector: fleet.connector, reporter, now: () => new Date(0) }, { targets: targets(5), script: 'x', concurrency: 2 });
    assert.deepEqual(outcomes.map((o) => [o.host, o.ok]), [['h1', true], ['h2', false], ['h3', true], ['h4', false], ['h5', true]]);
    assert.equal(outcomes[1]?.error, 'command failed (exit 3)');
    assert.deepEqual(outcomes[1]?.details, ['partial', 'boom']);
    assert.match(outcomes[3]?.error ?? '', /^cannot connect to 10\.0\.0\.4:22: connection refused$/);
    const lines = reporter.events.filter((e) => e.kind === 'output' && e.host === 'h1').map((e) => (e.kind === 'output' ? e.text : ''));
    assert.deepEqual(lines.join('\n').split('\n'), ['hello from h1', 'second line'], 'output arrives as whole lines');
    assert.equal(fleet.peak(), 2, 'two hosts at once, never more');
  });

  it('an exception in one host\'s work is that host\'s failure only', async () => {
    const fleet = fakeFleet(async () => ok(''));
    const outcomes = await forEachHost({ connector: fleet.connector, reporter: new Events(), now: () => new Date(0) }, targets(3), 8, async (host) => {
      if (host.target.name === 'h2') throw new Error('surprise');
      return host.target.name;
    });
    assert.deepEqual(outcomes.map((o) => [o.ok, o.value ?? o.error]), [[true, 'h1'], [false, 'surprise'], [true, 'h3']]);
  });
});

describe('upload core (in-memory hosts)', () => {
  it('sends every file to every host, streaming big files and sharing small ones', async () => {
    const files: LocalEntry[] = [
      { relPath: 'tree', absPath: '/l/tree', isDirectory: true, mode: 0o755, size: 0 },
      { relPath: 'tree/a', absPath: '/l/tree/a', isDirectory: false, mode: 0o644, size: 3 },
      { relPath: 'tree/big', absPath: '/l/tree/big', isDirectory: false, mode: 0o600, size: 9 * 1024 * 1024 },
    ];
    let reads = 0;
    let streams = 0;
    const local: LocalFiles = {
      walk: async () => ({ entries: files, skipped: [] }),
      read: async () => ((reads += 1), Buffer.from('abc')),
      stream: () => ((streams += 1), Readable.from([Buffer.alloc(9 * 1024 * 1024, 1)])),
    };
    const fleet = fakeFleet(async () => ok(''));
    const outcomes = await uploadTree(
      { connector: fleet.connector, reporter: new Events(), now: () => new Date(0), local },
      { targets: targets(3), paths: ['/l/tree'], remotePath: '/srv/in', concurrency: 3 },
    );
    assert.ok(outcomes.every((o) => o.ok));
    for (const host of ['h1', 'h2', 'h3']) {
      assert.equal(fleet.written.get(host)?.get('/srv/in/tree/a')?.toString(), 'abc');
      assert.equal(fleet.written.get(host)?.get('/srv/in/tree/big')?.length, 9 * 1024 * 1024);
    }
    assert.equal(reads, 1, 'a small file is read once for all hosts');
    assert.equal(streams, 3, 'a big file is streamed per host');
  });

  it('refuses a relative --remote-path before connecting anywhere', async () => {
    const fleet = fakeFleet(async () => ok(''));
    const local: LocalFiles = { walk: async () => ({ entries: [], skipped: [] }), read: async () => Buffer.alloc(0), stream: () => Readable.from([]) };
    await assert.rejects(uploadTree({ connector: fleet.connector, reporter: new Events(), now: () => new Date(0), local }, { targets: targets(1), paths: [], remotePath: 'relative', concurrency: 1 }), /must be an absolute path/);
    assert.equal(fleet.peak(), 0);
  });
});

describe('concurrency primitives', () => {
  it('the limiter never exceeds its limit and serves waiters in order', async () => {
    const limit = createLimiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        limit(async () => {
          active += 1;
          peak = Math.max(peak, active);
          order.push(i);
          await tick();
          active -= 1;
        }),
      ),
    );
    assert.equal(peak, 2);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('forEachLimited stops taking items after a failure and rethrows it', async () => {
    const started: number[] = [];
    await assert.rejects(
      forEachLimited([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 2, async (i) => {
        started.push(i);
        await tick();
        if (i === 1) throw new Error('stop');
      }),
      /stop/,
    );
    assert.ok(started.length <= 4, `started ${started.join(',')}`);
  });

  it('the byte budget is FIFO: a large request is not starved by small ones', async () => {
    const use = createBudget(10);
    const order: string[] = [];
    let inUse = 0;
    let peak = 0;
    const job = (name: string, amount: number) =>
      use(amount, async () => {
        inUse += Math.min(amount, 10);
        peak = Math.max(peak, inUse);
        order.push(name);
        await tick();
        await tick();
        inUse -= Math.min(amount, 10);
      });
    await Promise.all([job('small1', 4), job('small2', 4), job('large', 9), job('small3', 1), job('huge', 50)]);
    assert.ok(peak <= 10, `peak ${peak}`);
    assert.ok(order.indexOf('large') < order.indexOf('small3'), order.join(','));
    assert.ok(order.includes('huge'), 'a request above the total still runs, alone');
  });

  it('reusingConnections answers from the open connections and keeps every method of a class-based connector', async () => {
    const calls: string[] = [];
    class ClassConnector implements HostConnector {
      async connect(target: HostTarget): Promise<RemoteHost> {
        calls.push(`connect ${target.name}`);
        return { target } as RemoteHost;
      }
      async pinHostKey(target: HostTarget): Promise<void> {
        calls.push(`pin ${target.name}`);
      }
      async forgetHostKey(target: HostTarget): Promise<void> {
        calls.push(`forget ${target.name}`);
      }
      async closeAll(): Promise<void> {
        calls.push('closeAll');
      }
    }
    const [h1, h2] = targets(2) as [HostTarget, HostTarget];
    const open = { target: h1 } as RemoteHost;
    const reusing = reusingConnections(new ClassConnector(), new Map([['h1', open]]));
    assert.equal(await reusing.connect(h1), open, 'an open connection is reused');
    assert.equal((await reusing.connect(h2)).target, h2);
    await reusing.pinHostKey(h1, { type: 'ssh-ed25519', base64: 'AAAA' });
    await reusing.forgetHostKey(h2);
    await reusing.closeAll();
    assert.deepEqual(calls, ['connect h2', 'pin h1', 'forget h2', 'closeAll']);
  });

  it('a stopped connector closes what it opened, with the reason, and starts no further host', async () => {
    const closed: string[] = [];
    const inner: HostConnector = {
      connect: async (target) => ({ target, close: (reason?: string) => void closed.push(`${target.name}: ${reason ?? ''}`) }) as RemoteHost,
      pinHostKey: async () => undefined,
      forgetHostKey: async () => undefined,
      closeAll: async () => undefined,
    };
    const stoppable = stoppableConnector(inner);
    const [h1, h2, h3] = targets(3) as [HostTarget, HostTarget, HostTarget];
    let release: () => void = () => undefined;
    let h2Started: () => void = () => undefined;
    const h2Running = new Promise<void>((resolve) => (h2Started = resolve));
    // One host at a time: h1 finishes, h2 runs when the stop comes, h3 has not started.
    const outcomes = forEachHost({ connector: stoppable.connector, reporter: new Events(), now: () => new Date() }, [h1, h2, h3], 1, async (host) => {
      if (host.target.name === 'h1') return 'done';
      h2Started();
      await new Promise<void>((resolve) => (release = resolve));
      throw new Error(`${host.target.name}: interrupted`);
    });
    await h2Running;
    stoppable.stop('interrupted');
    release();
    const result = await outcomes;
    assert.equal(stoppable.stopped, true);
    assert.deepEqual(closed, ['h1: interrupted', 'h2: interrupted']);
    assert.deepEqual(result.map((o) => [o.host, o.ok, o.error]), [['h1', true, undefined], ['h2', false, 'interrupted'], ['h3', false, 'not started (interrupted)']]);
  });
});
