import { UserError } from '../domain/errors.js';

/**
 * `[%%key%%]`, non-greedy and on one line, as upstream's templates write them. A fresh RegExp per
 * use (see `placeholderPattern`) because a shared global one carries `lastIndex` between calls.
 */
const PLACEHOLDER_SOURCE = String.raw`\[%%(.*?)%%\]`;

export type PlaceholderResolver = (key: string) => string | undefined;

/** The placeholder pattern, global: match[0] is the whole `[%%key%%]`, match[1] the key. */
export function placeholderPattern(): RegExp {
  return new RegExp(PLACEHOLDER_SOURCE, 'g');
}

/** 1-based line of `offset` in `text`. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line += 1;
  return line;
}

/**
 * Replaces every placeholder in `text`. A key the resolver does not know is an error naming
 * where it stands (upstream left such text in place, to fail later inside Nix or at run time).
 * The full per-context engine of deploys is src/core/deploy/placeholders.ts.
 */
export function substitutePlaceholders(
  text: string,
  resolve: PlaceholderResolver,
  where: string,
  knownForms = '[%%<node>.ipv4%%], [%%localhost.hostname%%], [%%localhost.ipv4%%]',
): string {
  return text.replace(placeholderPattern(), (match: string, key: string, offset: number) => {
    const value = resolve(key);
    if (value !== undefined) return value;
    throw new UserError(`${where}${text.includes('\n') ? `:${lineAt(text, offset)}` : ''}: unknown placeholder ${match}`, {
      hints: [`known forms: ${knownForms}`],
    });
  });
}

/**
 * The node map upstream offers to actions: `<node>.ipv4` for every server, `localhost.*` for the
 * target, and in a cluster `<node>.overlayIp` / `localhost.overlayIp` from flannel's leases.
 */
export function nodeAddressResolver(
  servers: ReadonlyArray<{ name: string; address: string | undefined }>,
  localhost: { name: string; address: string },
  overlayIps: ReadonlyMap<string, string> = new Map(),
): PlaceholderResolver {
  const map = new Map<string, string>();
  for (const server of servers) if (server.address !== undefined) map.set(`${server.name}.ipv4`, server.address);
  for (const [node, ip] of overlayIps) map.set(`${node}.overlayIp`, ip);
  map.set('localhost.hostname', localhost.name);
  map.set('localhost.ipv4', localhost.address);
  const ownOverlay = overlayIps.get(localhost.name);
  if (ownOverlay !== undefined) map.set('localhost.overlayIp', ownOverlay);
  return (key) => map.get(key);
}
