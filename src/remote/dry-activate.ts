/** What `nixos-rebuild dry-activate` said activation would do, unit by unit. */
export interface DryActivation {
  readonly stop: readonly string[];
  readonly restart: readonly string[];
  readonly reload: readonly string[];
  readonly start: readonly string[];
}

const VERBS = ['stop', 'restart', 'reload', 'start'] as const;

/**
 * Reads switch-to-configuration's dry-activate report ("would restart the following units: a.service,
 * b.service", on stderr). Its other lines ("would NOT stop the following changed units", "would
 * activate the configuration...") are not unit changes and are left out.
 */
export function parseDryActivate(output: string): DryActivation {
  const found: Record<(typeof VERBS)[number], string[]> = { stop: [], restart: [], reload: [], start: [] };
  for (const line of output.split('\n')) {
    const match = /^would (stop|restart|reload|start) the following units: (.*)$/.exec(line.trim());
    if (match === null) continue;
    const verb = match[1] as (typeof VERBS)[number];
    found[verb].push(...(match[2] ?? '').split(',').map((u) => u.trim()).filter((u) => u !== ''));
  }
  return found;
}

/** One line for the operator: "would restart 2 units (a.service, b.service); would start 1 unit (c.service)". */
export function describeDryActivation(d: DryActivation): string {
  const parts = VERBS.flatMap((verb) => {
    const units = d[verb];
    return units.length === 0 ? [] : [`would ${verb} ${units.length} unit${units.length === 1 ? '' : 's'} (${units.join(', ')})`];
  });
  return parts.length === 0 ? 'activation would change no units' : parts.join('; ');
}
