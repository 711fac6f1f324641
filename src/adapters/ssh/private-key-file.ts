import { readFile, stat } from 'node:fs/promises';
import ssh2 from 'ssh2';
import { UserError } from '../../domain/errors.js';

/**
 * Reads an SSH private key file the way OpenSSH would accept it: owner-only permissions (OpenSSH
 * ignores a key that others can read, "UNPROTECTED PRIVATE KEY FILE"), and content that is a
 * private key. Passphrase-protected keys pass (they are used through ssh-agent). Every problem is
 * an input error naming the file, raised before any host is contacted.
 */
export async function readPrivateKeyFile(file: string): Promise<Buffer> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (err) {
    throw new UserError(`${file}: cannot read the SSH key (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
      hints: ['create it with `nix-infra ssh-key create`, or fix ssh_key in servers.yaml'],
    });
  }
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    throw new UserError(`${file}: permissions ${octal} are too open: a private key must be readable by its owner only (OpenSSH refuses it too)`, {
      hints: [`run: chmod 600 ${file}`],
    });
  }
  const content = await readFile(file);
  const parsed = ssh2.utils.parseKey(content);
  if (parsed instanceof Error) {
    if (/passphrase/i.test(parsed.message)) return content;
    throw new UserError(`${file}: not an SSH private key (${parsed.message})`, {
      hints: ['ssh_key in servers.yaml (or --ssh-key / SSH_KEY) must name a private key file such as ssh/<name>, not its .pub'],
    });
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || !key.isPrivateKey()) {
    throw new UserError(`${file}: is a public key, not a private key`, {
      hints: ['ssh_key in servers.yaml (or --ssh-key / SSH_KEY) must name the private key file, without .pub'],
    });
  }
  return content;
}
