import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from './package-paths.js';

interface ManifestShape {
  commands?: Record<string, { aliases?: string[]; hidden?: boolean }>;
}

/**
 * Every visible command id and alias as typed (`cluster deploy-apps`), ours and the oclif
 * plugins' (`help`, `autocomplete`), read from the manifests. Only the error path calls this.
 */
export function visibleCommandNames(): string[] {
  const require = createRequire(path.join(packageRoot, 'package.json'));
  const pkg = readJson(path.join(packageRoot, 'package.json')) as { oclif?: { plugins?: string[] } } | undefined;
  const manifests = [path.join(packageRoot, 'oclif.manifest.json')];
  // The plugins export only their code, not package.json: look in the folders Node would search.
  for (const plugin of pkg?.oclif?.plugins ?? []) {
    const folder = (require.resolve.paths(plugin) ?? []).map((dir) => path.join(dir, plugin)).find((dir) => existsSync(dir));
    if (folder !== undefined) manifests.push(path.join(folder, 'oclif.manifest.json'));
  }
  return manifests.flatMap((file) =>
    Object.entries((readJson(file) as ManifestShape | undefined)?.commands ?? {})
      .filter(([, command]) => command.hidden !== true)
      .flatMap(([id, command]) => [id, ...(command.aliases ?? [])])
      .map((id) => id.replaceAll(':', ' ')),
  );
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
