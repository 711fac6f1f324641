import { shellQuote } from './shell-quote.js';

/**
 * Wraps a command line (for a command that takes no stdin) so that the remote command and all
 * it started end when its SSH channel does: Ctrl-C here, a lost connection, a killed CLI.
 *
 * sshd leaves a command without a terminal running when the client goes away, and the `signal`
 * channel request is not honoured either (both tried against OpenSSH 9.2). What sshd does do is
 * close the command's stdin when the channel or the connection ends. So the command runs in the
 * background with stdin from /dev/null (what it had before: nothing), while a watcher holds the
 * channel's stdin; when that ends, the watcher kills the process group (sshd made the login
 * shell a session and group leader, so that is this command's group and nothing else). When
 * the command ends first, the watcher is stopped and the command's exit status is passed on.
 * The command text is evaluated by the same login shell as before, quoted once here.
 */
export function endsWithChannel(commandLine: string): string {
  return [
    'exec 3<&0',
    `{ eval ${shellQuote(commandLine)}; } </dev/null 3<&- & p=$!`,
    '{ read -r _ <&3; kill -TERM 0; } & w=$!',
    'exec 3<&-',
    'wait "$p"; s=$?',
    'kill "$w" 2>/dev/null',
    'exit "$s"',
  ].join('; ');
}
