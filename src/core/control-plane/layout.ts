/**
 * Where things live in the control plane (upstream-templates.md §4.1, upstream-cli.md §10.1).
 *
 * /cluster/nodes/<node>                         {"name","ipv4","services":[group...]}  (the CLI)
 * /cluster/<group>/<app>/meta_data              {"env":{...},"env_prefix","publish":{"port"}} (node units)
 * /cluster/<group>/<app>/instances/<hostname>   {"node","ipv4","port"}                  (node units)
 * /coreos.com/network/config                    flannel network config                  (seeded by the CLI)
 * /coreos.com/network/subnets/<a.b.c.d>-<len>   flannel lease {"PublicIP",...}          (flanneld)
 *
 * <group> is one of frontends | backends | services.
 */

export const CLUSTER_PREFIX = '/cluster/';
export const NODES_PREFIX = '/cluster/nodes/';
export const SERVICE_GROUPS = ['frontends', 'backends', 'services'] as const;
export type ServiceGroup = (typeof SERVICE_GROUPS)[number];

/** flannel's default etcd prefix (the NixOS module does not change it). */
export const FLANNEL_PREFIX = '/coreos.com/network/';
export const FLANNEL_CONFIG_KEY = '/coreos.com/network/config';
export const FLANNEL_SUBNETS_PREFIX = '/coreos.com/network/subnets/';

export function nodeKey(name: string): string {
  return `${NODES_PREFIX}${name}`;
}

export function groupPrefix(group: ServiceGroup): string {
  return `${CLUSTER_PREFIX}${group}/`;
}

/** The read-only views an operator can ask for (`etcd nodes|services|backends|frontends|network`). */
export const VIEW_NAMES = ['nodes', 'services', 'backends', 'frontends', 'network'] as const;
export type ViewName = (typeof VIEW_NAMES)[number];

/** The prefix a view reads. */
export function viewPrefix(view: ViewName): string {
  switch (view) {
    case 'nodes':
      return NODES_PREFIX;
    case 'network':
      return FLANNEL_PREFIX;
    default:
      return groupPrefix(view);
  }
}
