/**
 * Progress is data: core emits events, and a renderer in src/ui decides how they look
 * (listr2 on a TTY, `<host>: <line>` plain lines otherwise, nothing but the result with --json).
 * This is what lets later features (plan, status, MCP) reuse core without scraping text.
 */
export type ProgressEvent =
  | { readonly kind: 'step'; readonly message: string; readonly host?: string }
  | { readonly kind: 'created'; readonly path: string; readonly what: string }
  | { readonly kind: 'skipped'; readonly path: string; readonly reason: string }
  | { readonly kind: 'warning'; readonly message: string; readonly host?: string }
  | { readonly kind: 'output'; readonly host: string; readonly stream: 'stdout' | 'stderr'; readonly text: string }
  | { readonly kind: 'host'; readonly host: string; readonly state: 'running' | 'ok' | 'failed'; readonly detail?: string }
  | { readonly kind: 'transfer'; readonly host: string; readonly done: number; readonly total: number; readonly path?: string };

export interface Reporter {
  emit(event: ProgressEvent): void;
}
