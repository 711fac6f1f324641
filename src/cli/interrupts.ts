import { printNote } from '../ui/output.js';

type Stop = () => void;

const stops = new Set<Stop>();
let installed = false;
let interrupted = false;

/**
 * The first SIGINT/SIGTERM stops what registered (remote commands end, the run unwinds, reports
 * and exits 130). With nothing registered, or at the second signal, the signal takes its default
 * course at once: the process ends by it (a shell reports 130 for SIGINT).
 */
function onSignal(signal: NodeJS.Signals): void {
  if (interrupted || stops.size === 0) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.kill(process.pid, signal);
    return;
  }
  interrupted = true;
  printNote('Interrupted: stopping the remote commands (Ctrl-C again to quit at once).');
  for (const stop of stops) stop();
}

/** From now until `dispose`, Ctrl-C (or SIGTERM) calls `stop` instead of ending the process. */
export function onInterrupt(stop: Stop): { dispose(): void } {
  if (!installed) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    installed = true;
  }
  stops.add(stop);
  return { dispose: () => void stops.delete(stop) };
}
