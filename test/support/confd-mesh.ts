/**
 * What templates/cluster/modules/haproxy-mesh.body.tmpl renders for a given etcd state, without
 * confd (no Debian package exists). It follows the template step by step, with the same confd
 * functions' semantics:
 *   exists K          -> kv.has(K)
 *   json (getv K)     -> JSON.parse(kv.get(K))
 *   lsdir /cluster/G  -> the distinct next path segments below /cluster/G/ that have children,
 *                        sorted (confd sorts)
 *   gets P/*          -> the keys directly matching P/<x>, sorted by key (confd sorts), their values
 *   {{ $meta.publish.port }} of a JSON number -> Go prints float64 5000 as "5000"
 * The test checks that the template still contains each construct this mirrors, so the two
 * cannot drift apart silently.
 */
export function renderMeshBody(kv: ReadonlyMap<string, string>, hostname: string): string {
  const nodeKey = `/cluster/nodes/${hostname}`;
  const nodeJson = kv.get(nodeKey);
  if (nodeJson === undefined) return '';
  const node = JSON.parse(nodeJson) as { services?: string[] };
  let out = '';
  for (const group of node.services ?? []) {
    for (const app of lsdir(kv, `/cluster/${group}`)) {
      const meta = kv.get(`/cluster/${group}/${app}/meta_data`);
      if (meta === undefined) continue;
      const port = (JSON.parse(meta) as { publish: { port: number } }).publish.port;
      // The template has an empty line before each `listen`.
      out += `\n\nlisten ${group}-${app}\n    bind 127.0.0.1:${port}\n    balance roundrobin`;
      const prefix = `/cluster/${group}/${app}/instances/`;
      const instances = [...kv.keys()].filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes('/')).sort();
      for (const key of instances) {
        const instance = JSON.parse(kv.get(key) as string) as { node: string; ipv4: string; port: number };
        out += `\n    server ${instance.node} ${instance.ipv4}:${instance.port} check`;
      }
    }
  }
  return out;
}

function lsdir(kv: ReadonlyMap<string, string>, dir: string): string[] {
  const prefix = `${dir}/`;
  const names = new Set<string>();
  for (const key of kv.keys()) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length).split('/');
    if (rest.length > 1 && rest[0] !== undefined && rest[0] !== '') names.add(rest[0]);
  }
  return [...names].sort();
}
