import type { Reporter } from '../../ports/reporter.js';
import type { Workspace } from '../../ports/workspace.js';

export type ProjectTemplate = 'cluster' | 'fleet';

/**
 * npm drops dotfiles such as `.gitignore` from published packages, so templates store them as
 * `dot-<name>` and the scaffold restores the leading dot.
 */
export function scaffoldTargetPath(templatePath: string): string {
  return templatePath
    .split('/')
    .map((segment) => (segment.startsWith('dot-') ? `.${segment.slice(4)}` : segment))
    .join('/');
}

/**
 * Copies `templates/common/` and `templates/<template>/` into the project. A file that exists is
 * never touched, so re-running init (or running it in a cloned template project) is safe.
 * Returns the project paths that were created.
 */
export async function copyScaffold(
  deps: { templates: Workspace; project: Workspace; reporter: Reporter },
  template: ProjectTemplate,
): Promise<string[]> {
  const created: string[] = [];
  for (const source of ['common', template]) {
    if ((await deps.templates.stat(source)) === undefined) continue;
    for (const rel of await deps.templates.listFiles(source)) {
      const target = scaffoldTargetPath(rel);
      if ((await deps.project.stat(target)) !== undefined) {
        deps.reporter.emit({ kind: 'skipped', path: target, reason: 'already exists' });
        continue;
      }
      const sourcePath = `${source}/${rel}`;
      const info = await deps.templates.stat(sourcePath);
      const executable = ((info?.mode ?? 0) & 0o111) !== 0;
      const dir = target.includes('/') ? target.slice(0, target.lastIndexOf('/')) : undefined;
      if (dir !== undefined) await deps.project.ensureDir(dir, 0o755);
      const wrote = await deps.project.writeFile(target, await deps.templates.readFile(sourcePath), {
        mode: executable ? 0o755 : 0o644,
        exclusive: true,
      });
      if (wrote) {
        created.push(target);
        deps.reporter.emit({ kind: 'created', path: target, what: 'scaffold file' });
      }
    }
  }
  return created;
}
