import type { AppInstance, AppList, AppStatus } from '../core/control-plane/apps.js';
import type { NodesView, ServiceGroupView } from '../core/control-plane/views.js';
import { renderTable } from './output.js';

/**
 * Readable forms of the control-plane views (the --json forms are the parsed views themselves).
 * Cells never hold a newline, so each line is one record and the output greps well.
 */

const NONE = '-';

function instanceCell(instance: AppInstance): string {
  return `${instance.node} ${instance.ipv4}:${instance.port}`;
}

function instancesCell(instances: readonly AppInstance[]): string {
  return instances.length === 0 ? NONE : instances.map(instanceCell).join(', ');
}

export function nodesTable(view: NodesView): string {
  return renderTable(
    ['NODE', 'IPV4', 'CONSUMES'],
    view.nodes.map((n) => [n.name, n.ipv4, n.services.length === 0 ? NONE : n.services.join(' ')]),
  );
}

export function groupTable(view: ServiceGroupView): string {
  return renderTable(
    ['APP', 'PUBLISH PORT', 'ENV PREFIX', 'INSTANCES'],
    view.apps.map((a) => [a.app, String(a.metaData?.publishPort ?? NONE), a.metaData?.envPrefix ?? NONE, instancesCell(a.instances)]),
  );
}

export function appsTable(list: AppList): string {
  return renderTable(
    ['APP', 'GROUP', 'PUBLISH PORT', 'INSTANCES', 'CONSUMERS'],
    list.apps.map((a) => [a.app, a.group, String(a.publishPort ?? NONE), instancesCell(a.instances), a.consumers.length === 0 ? NONE : a.consumers.join(' ')]),
  );
}

export function appStatusText(status: AppStatus): string {
  const fieldRows = Object.entries(status.fields).map(([path, value]) => [path, typeof value === 'string' ? value : JSON.stringify(value)]);
  const lines = [
    `app:          ${status.app}`,
    `group:        ${status.group}`,
    `publish port: ${status.publishPort ?? `${NONE} (no publish.port in ${status.metaDataKey})`}`,
    `consumers:    ${status.consumers.length === 0 ? NONE : status.consumers.join(' ')}`,
    '',
    fieldRows.length === 0 ? `meta_data: none (${status.metaDataKey})` : renderTable(['META_DATA', 'VALUE'], fieldRows),
  ];
  if (status.hidden.length > 0) lines.push(`hidden (secret-looking names): ${status.hidden.join(' ')}`);
  lines.push('');
  lines.push(
    status.instances.length === 0
      ? 'instances: none'
      : renderTable(
          ['INSTANCE', 'NODE', 'ADDRESS'],
          status.instances.map((i) => [i.host, i.node, `${i.ipv4}:${i.port}`]),
        ),
  );
  return lines.join('\n');
}
