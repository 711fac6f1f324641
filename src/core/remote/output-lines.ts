import type { Reporter } from '../../ports/reporter.js';

/**
 * Turns a host's output chunks into whole lines for the reporter, so `<node>: <line>` output
 * never splits a line across two prefixes. Call `flush()` when the command ends.
 */
export function lineEmitter(reporter: Reporter, host: string): {
  push: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
  flush: () => void;
} {
  const pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  const emit = (stream: 'stdout' | 'stderr', text: string): void => reporter.emit({ kind: 'output', host, stream, text });
  return {
    push(stream, chunk) {
      const text = pending[stream] + chunk.toString('utf8');
      const cut = text.lastIndexOf('\n');
      if (cut === -1) {
        pending[stream] = text;
        return;
      }
      emit(stream, text.slice(0, cut));
      pending[stream] = text.slice(cut + 1);
    },
    flush() {
      for (const stream of ['stdout', 'stderr'] as const) {
        if (pending[stream] !== '') emit(stream, pending[stream]);
        pending[stream] = '';
      }
    },
  };
}

/** The last lines of a failed command's output, for the summary. */
export function outputTail(stdout: Buffer, stderr: Buffer, lines = 10): string[] {
  const text = `${stdout.toString('utf8')}${stderr.toString('utf8')}`.trimEnd();
  return text === '' ? [] : text.split('\n').slice(-lines);
}
