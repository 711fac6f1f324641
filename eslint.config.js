// Lint rules that encode the architecture: each folder may only import what its layer allows
// (see docs/architecture.md). A violation here is a design problem, not a style nit.
import tseslint from 'typescript-eslint';
import globals from 'globals';

const adapterOnlyLibraries = ['ssh2', 'hcloud-js', 'etcd3', 'node-forge', 'dotenv'];
const terminalLibraries = ['listr2'];

/** no-restricted-imports patterns for a layer. */
function restrict(groups, message) {
  return { group: groups, message };
}

const noAdapterLibs = restrict(
  adapterOnlyLibraries,
  'Third-party protocol, crypto and cloud libraries live in src/adapters/ only; depend on a port instead.',
);
const noTerminalLibs = restrict(terminalLibraries, 'Only src/ui/ renders to the terminal.');
const noOclif = restrict(['@oclif/core', '@oclif/*'], 'Only src/commands/ and src/ui/ know about oclif.');
const noUpperLayers = restrict(
  ['**/commands/**', '**/ui/**'],
  'Arrows point down: commands -> core -> ports <- adapters.',
);
const noAdapters = restrict(['**/adapters/**'], 'core/config/domain/ports/remote depend on ports, not on adapters.');

const processSideEffects = [
  { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read configuration through the context, not process.env.' },
  { selector: "MemberExpression[object.name='process'][property.name='exit']", message: 'Return a result or throw a UserError; only bin/ exits.' },
  { selector: "MemberExpression[object.name='process'][property.name=/^std(out|err)$/]", message: 'Emit events to the Reporter; only src/ui/ writes to the terminal.' },
  { selector: "MemberExpression[object.name='console']", message: 'Emit events to the Reporter; only src/ui/ writes to the terminal.' },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.sandbox/'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  {
    files: ['src/core/**', 'src/domain/**', 'src/ports/**', 'src/remote/**', 'src/config/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noAdapterLibs, noTerminalLibs, noOclif, noUpperLayers, noAdapters] }],
      'no-restricted-syntax': ['error', ...processSideEffects],
    },
  },
  {
    files: ['src/adapters/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noTerminalLibs, noOclif, noUpperLayers] }],
      'no-restricted-syntax': ['error', ...processSideEffects.slice(1)],
    },
  },
  {
    files: ['src/commands/**', 'src/cli/**', 'src/mcp/**', 'src/dashboard/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noAdapterLibs, noTerminalLibs] }],
      'no-restricted-syntax': ['error', ...processSideEffects.slice(1)],
    },
  },
);
