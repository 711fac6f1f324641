import { OperationFailed } from '../../domain/errors.js';
import type { HostConnector, RemoteHost } from '../../ports/remote-host.js';

export interface StoppableConnector {
  readonly connector: HostConnector;
  /** Closes every connection made so far (their commands fail with `reason`); no new ones. */
  stop(reason: string): void;
  readonly stopped: boolean;
}

/**
 * A connector that can be stopped from outside the run (Ctrl-C): what runs ends, because closing
 * a connection ends its remote commands, and the hosts not reached yet fail at once instead of
 * being connected, so the run unwinds through its normal path and reports what it got to.
 */
export function stoppableConnector(connector: HostConnector): StoppableConnector {
  const open = new Set<RemoteHost>();
  let reason: string | undefined;
  return {
    connector: {
      async connect(target, options) {
        if (reason !== undefined) throw new OperationFailed(`${target.name}: not started (${reason})`);
        const host = await connector.connect(target, options);
        // Stopped while this connection was being made.
        if (reason !== undefined) {
          host.close(reason);
          throw new OperationFailed(`${target.name}: ${reason}`);
        }
        open.add(host);
        return host;
      },
      pinHostKey: (target, key) => connector.pinHostKey(target, key),
      forgetHostKey: (target) => connector.forgetHostKey(target),
      closeAll: () => connector.closeAll(),
    },
    stop(why) {
      reason ??= why;
      for (const host of open) host.close(reason);
    },
    get stopped() {
      return reason !== undefined;
    },
  };
}
