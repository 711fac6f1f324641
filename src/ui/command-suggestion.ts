/**
 * The command an operator most likely meant, for the "did you mean" hint of a non-interactive
 * run. On a terminal @oclif/plugin-not-found asks the same question itself; scripts and CI logs
 * get no prompt, so the renderer names the guess instead. Same measure as the plugin (edit
 * distance over command ids and aliases), but bounded by the length of the last word typed, so
 * that `cluster deplyo` is not answered with `cluster destroy` (three edits in a six-letter word).
 */
export function closestCommand(typed: string, commands: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of commands) {
    // A typed beginning of a longer name (`cluster deploy` for `cluster deploy-apps`) is a hit.
    const distance = typed.length >= 3 && name.startsWith(typed) ? 0 : editDistance(typed, name);
    if (best === undefined || distance < best.distance) best = { name, distance };
  }
  const lastWord = typed.split(' ').at(-1) ?? typed;
  const limit = Math.max(1, Math.floor(lastWord.length / 3));
  return best !== undefined && best.distance <= limit ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
