import os from 'node:os';

/** user@host of this machine: who a deploy or an audit line is attributed to. */
export function operatorName(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): the host name still says where it came from.
  }
  return `${user}@${os.hostname()}`;
}
