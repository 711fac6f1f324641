import path from 'node:path';
import { clientAddress, listen, type ListeningServer } from '../adapters/http-server.js';
import { checkExposure, parseListen } from '../core/dashboard-listen.js';
import { UserError } from '../domain/errors.js';
import { AccessControl, RateLimit } from '../dashboard/access.js';
import { createDashboardApp } from '../dashboard/app.js';
import { StatusPoller } from '../dashboard/poller.js';
import type { ProjectSession } from './base-command.js';
import { prepareConnections } from './node-run.js';
import { runStatus, type StatusRunOptions } from './status-run.js';

export interface DashboardOptions {
  readonly listen: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly insecureHttp: boolean;
  readonly intervalSeconds: number;
  readonly status: StatusRunOptions;
}

export interface RunningDashboard {
  readonly url: string;
  readonly token: string;
  stop(): Promise<void>;
}

/** Checks every input, then starts the poller and the server (composition root of `dashboard`). */
export async function startDashboard(session: ProjectSession, options: DashboardOptions): Promise<RunningDashboard> {
  const address = parseListen(options.listen);
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new UserError('--tls-cert and --tls-key go together');
  const tls = options.tlsCert === undefined || options.tlsKey === undefined ? undefined : { certFile: path.resolve(options.tlsCert), keyFile: path.resolve(options.tlsKey) };
  checkExposure(address, tls !== undefined, options.insecureHttp);
  // The inventory and selectors are checked now (a typo fails the start, not every poll),
  // without connecting: the poller's first pass does that.
  await (await prepareConnections(session, options.status)).connector.closeAll();
  const now = () => Date.now();
  const access = new AccessControl(now);
  const poller = new StatusPoller(() => runStatus(session, options.status), options.intervalSeconds * 1000, session.ctx.now);
  const app = createDashboardApp({
    project: path.basename(session.workingDir),
    access,
    poller,
    loginLimit: new RateLimit(10, 60_000, now),
    actionLimit: new RateLimit(30, 60_000, now),
    secure: tls !== undefined,
    clientOf: clientAddress,
  });
  const server: ListeningServer = await listen(app, { host: address.host, port: address.port, ...(tls === undefined ? {} : { tls }) });
  poller.start();
  return {
    url: server.url,
    token: access.token,
    async stop() {
      poller.stop();
      await server.close();
    },
  };
}
