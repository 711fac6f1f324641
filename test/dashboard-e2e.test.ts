import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { runCli } from './support/cli.js';
import { repoRoot, tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox } from './support/sandbox.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = !canRunSandbox() ? 'sandbox hosts need root' : !existsSync(CHROMIUM) ? 'Debian chromium is not installed (scripts/setup.sh --test installs it)' : false;
const CANARIES = ['dash-canary-secret-7f3a', 'dash-canary-pass-91bc'];

describe('dashboard in a real browser against sandbox hosts', { skip, timeout: 240_000 }, () => {
  it('logs in with the token, shows every host, turns a stopped host unreachable live, refuses requests without session or CSRF, leaks no secret', async (t) => {
    const dir = await tempDir(t, 'nix-infra-dash-');
    const sandbox = await startSandbox(t, { hosts: 2, project: dir });
    const env = { SSH_KEY: 'sandbox', SECRETS_PASS: CANARIES[1] as string };
    await writeFile(path.join(dir, '.env'), `SECRETS_PASS=${CANARIES[1]}\n`, { mode: 0o600 });
    assert.equal((await runCli(['secrets', 'store', '-d', dir, '--name', 'app.token', '--batch'], { env, input: CANARIES[0] })).code, 0);
    const pinned = await runCli(['fleet', 'cmd', '-d', dir, '--target', 'node001,node002', 'true'], { env });
    assert.equal(pinned.code, 0, pinned.stderr);

    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), 'dashboard', '-d', dir, '--listen', '127.0.0.1:0', '--interval', '2', '--connect-timeout', '3'], {
      // A host stopped mid-session vanishes without a reset: the SSH liveness bound (default 30 s)
      // is what notices it, so the test uses a short one.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', NIX_INFRA_SSH_LIVENESS_SECONDS: '5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGTERM'));
    let stderr = '';
    const started = await new Promise<{ url: string; token: string }>((resolve, reject) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        const url = /^dashboard: (http:\/\/\S+)\/login$/m.exec(stderr)?.[1];
        const token = /^access token: (\S+)$/m.exec(stderr)?.[1];
        if (url !== undefined && token !== undefined) resolve({ url, token });
      });
      child.once('exit', (code) => reject(new Error(`dashboard exited ${code}: ${stderr}`)));
    });

    // Without a session: 401 for the page and the data; no action either.
    assert.equal((await fetch(`${started.url}/`)).status, 401);
    assert.equal((await fetch(`${started.url}/api/status`)).status, 401);
    assert.equal((await fetch(`${started.url}/events`)).status, 401);
    assert.equal((await fetch(`${started.url}/actions/refresh`, { method: 'POST' })).status, 401);
    const wrong = await fetch(`${started.url}/login`, { method: 'POST', body: new URLSearchParams({ token: 'not-the-token' }), redirect: 'manual' });
    assert.equal(wrong.status, 401);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    t.after(() => browser.close());
    const page = await browser.newPage();
    const bodies: string[] = [];
    page.on('response', (response) => {
      if (!response.url().endsWith('/events')) void response.text().then((text) => bodies.push(text), () => undefined);
    });
    const login = await page.goto(`${started.url}/login`);
    assert.match(login?.headers()['content-security-policy'] ?? '', /default-src 'none'; script-src 'self'/);
    await page.fill('input[name=token]', started.token);
    await page.click('button[type=submit]');
    await page.waitForSelector('tr[data-host="node001"]');
    await page.waitForSelector('tr[data-host="node002"][data-state="attention"]');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'nix_infra_session');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    // Never deployed by us: drift says so; a host with no system profile has no pending boot.
    assert.deepEqual(
      await page.$$eval('tr[data-host]', (rows) => rows.map((r) => [r.getAttribute('data-host'), r.children[3]?.textContent, r.children[5]?.textContent])),
      [['node001', 'never-deployed', 'ok'], ['node002', 'never-deployed', 'ok']],
    );

    // A host stopped mid-test turns unreachable without a reload.
    await sandbox.stopHost('node002');
    await page.waitForSelector('tr[data-host="node002"][data-state="unreachable"]', { timeout: 120_000 });
    assert.equal(await page.$eval('tr[data-host="node001"]', (r) => r.getAttribute('data-state')), 'attention', 'the other host still reports');

    // An action with the session but without the CSRF token is refused; the page's own form works.
    const noCsrf = await page.evaluate(async () => (await fetch('/actions/refresh', { method: 'POST', body: new URLSearchParams({}) })).status);
    assert.equal(noCsrf, 403);
    const badCsrf = await page.evaluate(async () => (await fetch('/actions/refresh', { method: 'POST', body: new URLSearchParams({ csrf: 'forged' }) })).status);
    assert.equal(badCsrf, 403);
    await Promise.all([page.waitForNavigation(), page.click('#refresh button')]);
    await page.waitForSelector('tr[data-host="node002"]');

    // No secret value in the page, any response, or the status data.
    const everything = [await page.content(), ...bodies, await page.evaluate(async () => (await fetch('/api/status')).text())].join('\n');
    for (const canary of CANARIES) assert.ok(!everything.includes(canary), `${canary} reached the browser`);
    if (process.env.NIX_INFRA_SCREENSHOT !== undefined) await page.screenshot({ path: process.env.NIX_INFRA_SCREENSHOT, fullPage: true });
  });
});
