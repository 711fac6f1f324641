import type { ServerInfo } from '../ports/provider.js';
import { renderTable } from '../ui/output.js';

/** `servers list` and `select`: one row per server, with what selectors look at. */
export function serverTable(servers: readonly ServerInfo[]): string {
  const rows = servers.map((s) => [s.name, s.address ?? '(looked up by name)', String(s.port), s.username, s.provider, s.role ?? '-', s.tier ?? '-', s.tags?.join(',') || '-']);
  return renderTable(['NAME', 'ADDRESS', 'PORT', 'USER', 'PROVIDER', 'ROLE', 'TIER', 'TAGS'], rows);
}
