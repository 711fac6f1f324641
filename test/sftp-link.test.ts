import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SftpLink } from '../src/adapters/ssh/sftp-link.js';

function connection() {
  const state: { lost: Error | undefined; killed: Error[] } = { lost: undefined, killed: [] };
  return {
    state,
    liveness: {
      lost: () => state.lost,
      kill: (reason: Error) => {
        state.killed.push(reason);
        state.lost ??= reason;
      },
    },
  };
}

describe('SftpLink: no SFTP request waits forever', () => {
  it('answers settle requests as usual', async () => {
    const { liveness } = connection();
    const link = new SftpLink('h1', liveness, 60_000);
    assert.equal(await link.call<number>((cb) => cb(null, 7)), 7);
    await assert.rejects(link.call<number>((cb) => cb(new Error('No such file'), 0)), /No such file/);
  });

  it('a lost connection fails pending requests at once, and later ones without sending them', async () => {
    const { state, liveness } = connection();
    const link = new SftpLink('h1', liveness, 60_000);
    const pending = link.call<void>(() => undefined); // never answered
    state.lost = new Error('h1: connection lost (read ECONNRESET)');
    link.failAll(state.lost);
    await assert.rejects(pending, /connection lost/);
    let sent = false;
    await assert.rejects(
      link.call<void>(() => (sent = true)),
      /connection lost/,
    );
    assert.equal(sent, false, 'nothing is sent on a connection that is gone');
  });

  it('requests unanswered past the progress deadline end the connection and fail with the reason', async () => {
    const { state, liveness } = connection();
    const link = new SftpLink('h1', liveness, 200);
    // The watchdog does not keep a process alive by itself (unref); this test must wait for it.
    const awake = setInterval(() => undefined, 50);
    await assert.rejects(link.call<void>(() => undefined), { message: 'h1: no answer to SFTP requests for 0.2 s; giving up on the host' });
    clearInterval(awake);
    assert.equal(state.killed.length, 1, 'the connection was ended');
    const late: Array<(err: null, value: number) => void> = [];
    const next = link.call<number>((cb) => late.push(cb));
    await assert.rejects(next, /no answer to SFTP requests/, 'the connection is gone for every later request');
    assert.equal(late.length, 0);
  });
});
