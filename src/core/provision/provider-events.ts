import type { ProviderEvent } from '../../ports/provider.js';
import type { ProgressEvent } from '../../ports/reporter.js';

/** A provider's progress as the CLI's progress event (a wait reads "waiting for <action>"). */
export function progressOf(event: ProviderEvent): ProgressEvent {
  const message = event.kind === 'step' ? event.message : `waiting for ${event.what}`;
  return { kind: 'step', message, ...(event.server === undefined ? {} : { host: event.server }) };
}
