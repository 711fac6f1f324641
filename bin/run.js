#!/usr/bin/env node
// Entry point. `--version` is answered before anything is imported: scripts call it to probe the
// tool, and loading oclif would triple its cost (see docs/benchmarks.md). Everything else goes
// through oclif, and every error through one renderer that picks the exit code.
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { run, flush } = await import('@oclif/core');
  try {
    await run(argv, import.meta.url);
    await flush();
  } catch (error) {
    const { reportFailure } = await import('../dist/src/ui/error-output.js');
    const { visibleCommandNames } = await import('../dist/src/cli/command-names.js');
    process.exitCode = reportFailure(error, { debug: wantsDebug(argv), argv, commandNames: visibleCommandNames });
  }
}

function wantsDebug(args) {
  const end = args.indexOf('--');
  const flags = end === -1 ? args : args.slice(0, end);
  return flags.includes('--debug') || process.env.NIX_INFRA_DEBUG === '1';
}
