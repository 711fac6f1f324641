import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { repoRoot, tempDir } from './support/repo.js';
import { fetchThrough, runCliAndSignal, runCliOnTerminals, startPortForward } from './support/cli.js';
import { canRunSandbox, startSandbox, type Sandbox } from './support/sandbox.js';

const exec = promisify(execFile);
const skip = canRunSandbox() ? false : 'sandbox hosts need root';

/**
 * Hosts where a `sleep 300` still runs, once the remote ends have had their chance to stop it:
 * each host is asked until none runs there, at most ~10 s (a stop that does not happen within
 * that never happens: the sleep would run for 300).
 */
async function hostsStillSleeping(sandbox: Sandbox): Promise<string[]> {
  const sleeping = async (host: string) => (await sandbox.exec(host, ['pgrep', '-f', 'sleep 300'])).code === 0;
  const left: string[] = [];
  for (const { name } of sandbox.hosts) {
    let running = await sleeping(name);
    for (let i = 0; running && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      running = await sleeping(name);
    }
    if (running) left.push(name);
  }
  return left;
}

describe('interactive commands on sandbox hosts', { skip, timeout: 180_000 }, () => {
  it('ssh opens a shell whose terminal follows the local window size, and returns its exit code', async (t) => {
    const dir = await tempDir(t, 'nix-infra-ssh-');
    await startSandbox(t, { hosts: 1, project: dir });
    const spec = {
      argv: [process.execPath, path.join(repoRoot, 'bin', 'run.js'), 'fleet', 'ssh', '-d', dir, '--target', 'node001'],
      size: [30, 100],
      // Each step waits for what the previous one must have printed, never for time.
      answers: [
        ['#', 'stty size'],
        ['30 100', { resize: [40, 120] }],
        ['#', 'for i in 1 2 3 4 5 6 7 8 9 10; do [ "$(stty size)" = "40 120" ] && break; sleep 0.1; done; stty size; hostname'],
        ['40 120', 'exit 7'],
      ],
    };
    const { stdout } = await exec('python3', [path.join(repoRoot, 'test', 'support', 'pty_run.py'), JSON.stringify(spec)], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', TERM: 'xterm' },
    });
    const result = JSON.parse(stdout) as { exit: number; transcript: string };
    assert.match(result.transcript, /^30 100\r?$/m);
    assert.match(result.transcript, /^40 120\r?$/m);
    assert.match(result.transcript, /^node001\r?$/m);
    assert.equal(result.exit, 7);
  });

  it('port-forward carries local connections to a port on the node, and stops cleanly on SIGINT', async (t) => {
    const dir = await tempDir(t, 'nix-infra-pf-');
    const sandbox = await startSandbox(t, { hosts: 1, project: dir });
    await sandbox.exec('node001', ['sh', '-c', 'mkdir -p /srv/www && echo hello-from-node001 > /srv/www/index.html']);
    await sandbox.exec('node001', ['sh', '-c', 'cd /srv/www && nohup python3 -m http.server 8080 --bind 127.0.0.1 >/dev/null 2>&1 &']);

    const forward = await startPortForward(['fleet', 'port-forward', '-d', dir, '--target', 'node001', '--local-port', '0', '--remote-port', '8080'], {});
    assert.equal((await fetchThrough(forward.port)).trim(), 'hello-from-node001');
    assert.equal(await forward.stop(), 0, forward.stderr());
    const stderr = forward.stderr();
    assert.match(stderr, /Forwarding stopped/);
  });

  it('cmd on terminals: a task list on stderr, remote stdout on stdout and remote stderr on stderr; Ctrl-C stops the remote commands', async (t) => {
    const dir = await tempDir(t, 'nix-infra-tty-');
    const sandbox = await startSandbox(t, { hosts: 2, project: dir });
    const run = await runCliOnTerminals(['fleet', 'cmd', '-d', dir, '--target', 'node001 node002', 'echo "out-$(hostname)"; echo "err-$(hostname)" >&2']);
    assert.equal(run.code, 0, run.stderr);
    for (const node of ['node001', 'node002']) {
      assert.match(run.stdout, new RegExp(`^${node}: out-${node}$`, 'm'));
      assert.match(run.stderr, new RegExp(`^${node}: err-${node}$`, 'm'));
      assert.doesNotMatch(run.stdout, new RegExp(`err-${node}`), 'remote stderr is not on stdout');
    }
    assert.match(run.stderr, /^2 ok$/m);
    assert.doesNotMatch(run.stdout, /2 ok|cmd: echo/, 'the task list and the summary are not on stdout');

    // Ctrl-C (on the terminal) once `sleep 300` runs on both hosts: it ends there, exit 130, and
    // the summary says how far each host got.
    const script = 'echo "started-$(hostname)"; sleep 300';
    assert.deepEqual(await hostsStillSleeping(sandbox), []);
    const interrupted = await runCliOnTerminals(['fleet', 'cmd', '-d', dir, '--target', 'node001 node002', script], {
      answers: [[['started-node001', 'started-node002'], { keys: '\u0003' }]],
      timeoutSeconds: 30,
    });
    assert.equal(interrupted.code, 130, interrupted.stderr);
    assert.deepEqual(await hostsStillSleeping(sandbox), [], 'no sleep is left on any host');
    assert.equal(interrupted.stderr.match(/^Interrupted: .*$/gm)?.length, 1, interrupted.stderr);
    assert.match(interrupted.stderr, /^0 ok, 2 failed:$/m);
    assert.match(interrupted.stderr, /^ {2}node001: interrupted$/m);
    assert.doesNotMatch(interrupted.stderr, /bug/);

    // The same without a terminal, stopped by SIGINT to the process (as `kill -INT` or a CI does).
    const signalled = await runCliAndSignal(['fleet', 'cmd', '-d', dir, '--target', 'node001 node002', script], {
      when: [/^node001: started-node001$/m, /^node002: started-node002$/m],
      signal: 'SIGINT',
    });
    assert.equal(signalled.code, 130, signalled.stderr);
    assert.deepEqual(await hostsStillSleeping(sandbox), [], 'no sleep is left on any host');
    assert.match(signalled.stderr, /^0 ok, 2 failed:$/m);
  });
});
