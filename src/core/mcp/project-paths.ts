/**
 * Which project files an assistant may name, as a pure rule on the path it sends. The adapter
 * then resolves symbolic links and checks the real path again against the same folder, so a
 * link inside nodes/ pointing at secrets/ or /etc is refused too.
 */

/** Folders of the project whose files describe nodes and apps; never secrets/, ssh/, ca/ or .env. */
export const CONFIG_FOLDERS = ['nodes', 'app_modules', 'modules', 'node_types'] as const;
/** What the dev tools may also write. */
export const DEV_FOLDERS = ['app_modules', '__test__'] as const;

export const MAX_PATH_LENGTH = 512;

export type PathCheck = { readonly ok: true; readonly folder: string; readonly segments: readonly string[] } | { readonly ok: false; readonly problem: string };

/**
 * Accepts `folder/sub/file` under one of `folders`: relative, `/`-separated, no empty, `.` or
 * `..` segment, no hidden segment (a leading "."), no backslash or NUL, bounded length.
 */
export function checkProjectPath(requested: string, folders: readonly string[]): PathCheck {
  if (requested.length === 0) return { ok: false, problem: 'the path is empty' };
  if (requested.length > MAX_PATH_LENGTH) return { ok: false, problem: `the path is longer than ${MAX_PATH_LENGTH} characters` };
  if (requested.includes('\0')) return { ok: false, problem: 'the path contains a NUL byte' };
  if (requested.includes('\\')) return { ok: false, problem: 'use "/" to separate folders' };
  if (requested.startsWith('/') || /^[A-Za-z]:/.test(requested) || requested.startsWith('~')) {
    return { ok: false, problem: 'only paths relative to the project folder are allowed' };
  }
  const segments = requested.replace(/\/+$/, '').split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') return { ok: false, problem: 'the path may not contain empty, "." or ".." parts' };
    if (segment.startsWith('.')) return { ok: false, problem: 'hidden files and folders are not accessible' };
    if (/[\x00-\x1f\x7f]/.test(segment)) return { ok: false, problem: 'the path contains a control character' };
  }
  const folder = segments[0] as string;
  if (!folders.includes(folder)) return { ok: false, problem: `only files under ${folders.map((f) => `${f}/`).join(', ')} are accessible` };
  return { ok: true, folder, segments };
}
