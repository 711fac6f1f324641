import type { RemoteHost } from '../ports/remote-host.js';

/**
 * Connects the local terminal to a remote login shell: raw keyboard input, the remote PTY sized
 * like the local window and resized with it, the terminal restored however the session ends.
 * Resolves with the remote exit status.
 */
export async function attachTerminal(host: RemoteHost, term: string): Promise<number | null> {
  const stdin = process.stdin;
  const stdout = process.stdout;
  const shell = await host.shell({
    term,
    rows: stdout.rows ?? 24,
    cols: stdout.columns ?? 80,
  });
  const onResize = (): void => shell.resize(stdout.rows ?? 24, stdout.columns ?? 80);
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  if (stdin.isTTY) stdin.setRawMode(true);
  stdout.on('resize', onResize);
  stdin.pipe(shell.stream);
  shell.stream.pipe(stdout, { end: false });
  const stderr = (shell.stream as { stderr?: NodeJS.ReadableStream }).stderr;
  stderr?.pipe(process.stderr, { end: false });
  try {
    return await shell.done;
  } finally {
    stdout.off('resize', onResize);
    stdin.unpipe(shell.stream);
    if (stdin.isTTY) stdin.setRawMode(wasRaw);
    stdin.pause();
  }
}
