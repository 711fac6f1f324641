/**
 * etcdctl on a control node against its local member, with the node's client certificate in
 * /root/certs (the files init-ctrl uploads). Every argument is its own argv element.
 */
export function etcdctlCommand(node: string, args: readonly string[]): { argv: string[] } {
  const certs = '/root/certs';
  return {
    argv: [
      'env',
      'ETCDCTL_API=3',
      'ETCDCTL_DIAL_TIMEOUT=3s',
      `ETCDCTL_CACERT=${certs}/ca-chain.cert.pem`,
      `ETCDCTL_CERT=${certs}/${node}-client-tls.cert.pem`,
      `ETCDCTL_KEY=${certs}/${node}-client-tls.key.pem`,
      'etcdctl',
      ...args,
    ],
  };
}
