import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The installed package's root (this file is at dist/src/cli/ after the build). */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const templatesDir = path.join(packageRoot, 'templates');
