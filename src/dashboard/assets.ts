/**
 * The page's only script and style, served from our own origin so the Content-Security-Policy can
 * forbid everything else (no inline script, no third-party code). The script re-renders the table
 * from each snapshot the server streams; it writes text, never markup.
 */
export const DASHBOARD_JS = `(() => {
  const body = document.querySelector('#fleet tbody');
  const updated = document.getElementById('updated');
  const describe = (h) => {
    if (!h.reachable) return [h.host, 'unreachable', '-', '-', '-', '-', h.error || '', '-'];
    const drift = !h.drift ? '-' : h.drift.kind === 'drift' ? 'drift (' + h.drift.parts.join(', ') + ')' : h.drift.kind;
    const system = !h.outOfBand ? '-' : h.outOfBand.kind === 'changed' ? 'changed by hand' : h.outOfBand.kind === 'ok' ? 'as deployed' : 'unknown';
    const units = !h.failedUnits ? '-' : h.failedUnits.length === 0 ? 'ok' : 'failed: ' + h.failedUnits.join(', ');
    const boot = h.rebootNeeded ? 'reboot needed' : h.pendingBoot && h.pendingBoot.pending ? 'pending boot' : h.pendingBoot ? 'ok' : '-';
    const last = h.lastDeploy ? h.lastDeploy.at + ' by ' + h.lastDeploy.operator : '-';
    return [h.host, h.inSync ? 'in sync' : 'attention', h.nixosVersion || '-', drift, system, boot, units, last];
  };
  const events = new EventSource('/events');
  events.addEventListener('snapshot', (event) => {
    const snapshot = JSON.parse(event.data);
    const rows = snapshot.hosts.map((h) => {
      const cells = describe(h);
      const tr = document.createElement('tr');
      tr.dataset.host = h.host;
      tr.dataset.state = cells[1];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      }
      return tr;
    });
    body.replaceChildren(...rows);
    updated.textContent = 'updated ' + snapshot.at + (snapshot.error ? ' (last pass failed: ' + snapshot.error + ')' : '');
  });
})();
`;

export const DASHBOARD_CSS = `body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}
header{display:flex;gap:1rem;align-items:center}h1{font-size:1.3rem;margin:0}
table{border-collapse:collapse;margin-top:1rem;width:100%}th,td{border-bottom:1px solid #ddd;padding:.35rem .6rem;text-align:left}
tr[data-state="in sync"] td:nth-child(2){color:#186a3b}tr[data-state="attention"] td:nth-child(2){color:#9a6700}
tr[data-state="unreachable"] td:nth-child(2){color:#b3261e;font-weight:600}#updated{color:#666}.error{color:#b3261e}
.login{max-width:24rem;margin:4rem auto}`;
