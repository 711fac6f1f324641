import { UserError } from '../../domain/errors.js';
import type { LocalFiles } from '../../ports/local-files.js';
import type { HostTarget, RemoteHost } from '../../ports/remote-host.js';
import { nixSystemFor } from '../../remote/host-facts.js';
import { HostStepFailed } from './fanout.js';

/** The node's Nix system (flake.nix's hwArch), from `uname -m` on it. */
export async function nixSystemOf(host: RemoteHost): Promise<string> {
  const result = await host.exec({ argv: ['uname', '-m'] });
  const arch = result.stdout.toString('utf8').trim();
  const system = nixSystemFor(arch);
  if (result.exitCode !== 0 || system === undefined) throw new HostStepFailed(`unsupported or unknown architecture ${JSON.stringify(arch)}`);
  return system;
}

/** The public key next to the node's private key: what configuration.nix authorizes for root. */
export async function publicKeyOf(local: LocalFiles, target: HostTarget): Promise<string> {
  const file = `${target.keyPath}.pub`;
  try {
    return (await local.read(file)).toString('utf8').trim();
  } catch {
    throw new UserError(`${target.name}: cannot read ${file}, the public key configuration.nix authorizes`, {
      hints: ['every private key under ssh/ needs its .pub next to it (nix-infra ssh-key create writes both)'],
    });
  }
}
