import { Flags } from '@oclif/core';
import { NodeLocalFiles } from '../../adapters/node-local-files.js';
import { uploadTree, type UploadSummary } from '../../core/remote/upload.js';
import { parseFileList } from '../../core/targets.js';
import { ExitCode, UserError } from '../../domain/errors.js';
import { BaseCommand } from '../base-command.js';
import { connectionFlags, mutatingFlags, targetFlag } from '../node-flags.js';
import { openNodeRun } from '../node-run.js';
import { hostResults, type HostResultsJson } from './host-results.js';
import { nodeRunOptions } from './run-options.js';

/** `fleet upload` and `cluster upload`. */
export abstract class UploadCommand extends BaseCommand<typeof UploadCommand> {
  static override summary = 'Copy local files and folders to the target nodes over SFTP.';

  static override description = `Each path keeps its name under --remote-path, folders are copied recursively, and file
modes are kept. Every file is written to a temporary name and renamed into place, so programs on
the node never read half a file. Links to folders are skipped (with a warning).`;

  static override enableJsonFlag = true;

  static override flags = {
    target: targetFlag,
    file: Flags.string({ summary: 'Local file(s) or folder(s): "a b" (split on spaces), or the flag repeated (one path each).', multiple: true, multipleNonGreedy: true, required: true }),
    'remote-path': Flags.string({ summary: 'Absolute folder on the nodes.', default: '/root/uploads' }),
    ...connectionFlags,
    ...mutatingFlags,
  };

  async run(): Promise<HostResultsJson<UploadSummary>> {
    const session = this.openProject();
    const run = await openNodeRun(
      session,
      nodeRunOptions(this.flags, { sshKeyName: this.sshKeyName(session), json: this.jsonEnabled(), title: `upload to ${this.flags['remote-path']}` }),
    );
    // Ctrl-C: closing the connections removes the part files of the writes in flight first.
    let onInterrupt = (): void => undefined;
    const interrupted = new Promise<'interrupted'>((resolve) => (onInterrupt = () => resolve('interrupted')));
    process.once('SIGINT', onInterrupt);
    const outcomes = await Promise.race([
      uploadTree(
        { ...run.deps, local: new NodeLocalFiles(process.cwd()) },
        { targets: run.targets, paths: parseFileList(this.flags.file), remotePath: this.flags['remote-path'], concurrency: run.concurrency },
      ),
      interrupted,
    ])
      .catch(async (err: unknown) => {
        await run.abort();
        throw err;
      })
      .finally(() => process.off('SIGINT', onInterrupt));
    if (outcomes === 'interrupted') {
      await run.abort();
      throw new UserError('upload interrupted; part files removed from the hosts that answered', { exitCode: ExitCode.interrupted });
    }
    process.exitCode = await run.finish(outcomes);
    return hostResults(outcomes);
  }
}
