import { describe as describeStatus, type HostStatusView } from '../core/status/compartments.js';

/** Text for HTML: everything a host or the inventory says is escaped, never markup. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** One table row's cells, in column order; the live script computes the same from a snapshot. */
export function rowCells(host: HostStatusView): string[] {
  if (!host.reachable) return [host.host, 'unreachable', '-', '-', '-', '-', host.error ?? '', '-'];
  const d = describeStatus(host);
  const last = host.lastDeploy === undefined ? '-' : `${host.lastDeploy.at} by ${host.lastDeploy.operator}`;
  return [host.host, host.inSync ? 'in sync' : 'attention', host.nixosVersion || '-', d.drift, d.system, d.boot, d.units, last];
}

export const COLUMNS = ['Node', 'State', 'NixOS', 'Drift', 'System', 'Boot', 'Units', 'Last deploy'];

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/dashboard.css"></head>
<body>${body}</body></html>`;
}

export function loginPage(message?: string): string {
  return layout(
    'nix-infra dashboard: log in',
    `<main class="login"><h1>nix-infra</h1>${message ? `<p class="error">${escapeHtml(message)}</p>` : ''}
<form method="post" action="/login"><label>Access token <input type="password" name="token" autocomplete="off" autofocus></label>
<button type="submit">Log in</button></form><p>The token was printed when the dashboard started.</p></main>`,
  );
}

export function fleetPage(project: string, hosts: readonly HostStatusView[] | undefined, csrf: string): string {
  const rows =
    hosts === undefined
      ? `<tr><td colspan="${COLUMNS.length}">first status pass running…</td></tr>`
      : hosts
          .map((h) => {
            const cells = rowCells(h);
            return `<tr data-host="${escapeHtml(h.host)}" data-state="${escapeHtml(cells[1] as string)}">${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
          })
          .join('\n');
  return layout(
    `nix-infra: ${project}`,
    `<header><h1>${escapeHtml(project)}</h1><span id="updated"></span>
<form method="post" action="/actions/refresh" id="refresh"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><button type="submit">Refresh now</button></form></header>
<table id="fleet"><thead><tr>${COLUMNS.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>
<script src="/assets/dashboard.js"></script>`,
  );
}
