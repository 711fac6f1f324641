import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { startDashboard } from '../cli/dashboard-session.js';
import { statusRunOptions } from '../cli/status-run.js';
import { ctrlNodesOption } from '../cli/control-plane-session.js';
import { connectionFlags } from '../cli/node-flags.js';
import { wholeNumberFlag } from '../cli/numeric-flag.js';
import { printNote } from '../ui/output.js';

export default class Dashboard extends BaseCommand<typeof Dashboard> {
  static override summary = 'Serve a live web dashboard of the fleet status (local, token-protected).';

  static override description = `Polls the status of the selected nodes in the background (what \`status\` shows: reachable, release, drift, changed by hand, boot, failed units) and serves it as a table that updates live. Listens on 127.0.0.1 by default; a non-loopback --listen needs --tls-cert/--tls-key (or --insecure-http). Log in with the access token printed at start; sessions are HttpOnly SameSite=Strict cookies, actions need a CSRF token, logins and actions are rate-limited, and the page allows only its own script (strict Content-Security-Policy). No secret value is ever sent to the browser. Stop with Ctrl-C. See docs/dashboard.md.`;

  static override examples = ['<%= config.bin %> <%= command.id %> -d demo-project', '<%= config.bin %> <%= command.id %> -d ./my-cluster --cluster --target "tier:prod"'];

  static override flags = {
    target: Flags.string({ summary: 'Nodes to show: names or selectors (default: all).', multiple: true, default: ['all'] }),
    cluster: Flags.boolean({ summary: 'Cluster project: read overlay addresses from the control plane for the drift rendering.' }),
    'ctrl-nodes': ctrlNodesOption('Cluster: control nodes (default: CTRL_NODES, else those init-ctrl remembered).'),
    listen: Flags.string({ summary: 'HOST:PORT to listen on (port 0: any free port).', default: '127.0.0.1:8480' }),
    'tls-cert': Flags.string({ summary: 'PEM certificate for HTTPS.' }),
    'tls-key': Flags.string({ summary: 'PEM private key for HTTPS.' }),
    'insecure-http': Flags.boolean({ summary: 'Allow plain HTTP on a non-loopback address (the token and cookies travel in clear).' }),
    interval: wholeNumberFlag({ summary: 'Seconds between two status passes.', default: 15, min: 2, max: 3600 }),
    ...connectionFlags,
  };

  async run(): Promise<void> {
    const session = this.openProject();
    const dashboard = await startDashboard(session, {
      listen: this.flags.listen,
      tlsCert: this.flags['tls-cert'],
      tlsKey: this.flags['tls-key'],
      insecureHttp: this.flags['insecure-http'],
      intervalSeconds: this.flags.interval,
      status: statusRunOptions(this.flags.cluster ? 'cluster' : 'fleet', this.flags, this.sshKeyName(session)),
    });
    printNote(`dashboard: ${dashboard.url}/login`);
    printNote(`access token: ${dashboard.token}`);
    printNote('stop with Ctrl-C');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await dashboard.stop();
  }
}
