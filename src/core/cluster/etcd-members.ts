import { UserError } from '../../domain/errors.js';

/**
 * The text that replaces the etcdCluster placeholder: Nix attrsets separated by spaces, read back
 * by templates/cluster/modules/etcd-members.nix. Names are hostname labels and addresses IPs, so
 * neither can contain a quote, `''` or `${`.
 */
export function etcdClusterText(members: readonly { name: string; address: string }[]): string {
  return members.map((m) => `{ name = "${m.name}"; ip = "${m.address}"; }`).join(' ');
}

/** --cluster-uuid: the etcd cluster token, substituted into a Nix string. */
export function checkClusterUuid(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value)) {
    throw new UserError(`--cluster-uuid must be 1-128 letters, digits, ".", "_" or "-" (a UUID is fine), not ${JSON.stringify(value)}`);
  }
  return value;
}
