/** Results go to stdout; everything else (progress, warnings, prompts) goes to stderr. */
export function printResult(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printNote(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A plain aligned table; no colours, so it greps and diffs well. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const format = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [format(headers), ...rows.map(format)].join('\n');
}

/** Whether live task lists can be drawn: both output streams are terminals. */
export function canDrawTaskList(): boolean {
  return process.stderr.isTTY === true && process.stdout.isTTY === true;
}

/** A remote tool's own output, byte for byte, on the stream it came from (etcd ctl). */
export function passThrough(stream: 'stdout' | 'stderr', chunk: Buffer): void {
  (stream === 'stdout' ? process.stdout : process.stderr).write(chunk);
}
