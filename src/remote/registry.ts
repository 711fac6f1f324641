/** Remote commands for the registry node (argv: every element quoted once by the adapter). */
export const PODMAN_LOAD = { argv: ['podman', 'load'] } as const;

export function podmanPush(imageId: string, destination: string): { argv: string[] } {
  return { argv: ['podman', 'push', imageId, destination] };
}

export function podmanRemove(imageId: string): { argv: string[] } {
  return { argv: ['podman', 'rmi', imageId] };
}

/** A GET against the registry's HTTP API, run on the node (the registry listens on its overlay). */
export function registryGet(url: string): { argv: string[] } {
  return { argv: ['curl', '-fsS', '--max-time', '20', url] };
}
