import path from 'node:path';
import { Flags } from '@oclif/core';
import { NodeLocalFiles } from '../../adapters/node-local-files.js';
import { RegistryCommand } from '../../cli/registry-command.js';
import { publishImage } from '../../core/registry/publish.js';
import { printResult } from '../../ui/output.js';

export default class RegistryPublishImage extends RegistryCommand {
  static override summary = 'Load an image archive (docker save / podman save, plain or gzip) on the registry node and push it.';
  static override description = `The archive is streamed over SSH into \`podman load\` (never copied to the node's disk), then
pushed as <registry>:5000/apps/<name>:latest and :<tag>, where <registry> is the node's overlay
IP (from flannel's lease in etcd) or 127.0.0.1 with --use-localhost; the loaded copy is removed.
The image id comes from the archive's manifest.json, in either layout docker save writes.`;
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target registry001 --file app_images/app-pod.tar.gz --image-name app-pod --image-tag 1.4.2',
    '<%= config.bin %> <%= command.id %> --target worker001 --use-localhost --file ./web.tar --image-name web --image-tag dev',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    file: Flags.string({ summary: 'Image archive on this machine.', required: true }),
    'image-name': Flags.string({ summary: 'Name under apps/ in the registry.', required: true }),
    'image-tag': Flags.string({ summary: 'Tag to push besides latest.', required: true }),
  };

  async run(): Promise<{ imageId: string; pushed: string[] }> {
    const result = await this.onRegistryNode((host, registryHost, session) =>
      publishImage(
        { reporter: session.reporter, local: new NodeLocalFiles(process.cwd()) },
        host,
        { file: path.resolve(this.flags.file), imageName: this.flags['image-name'], imageTag: this.flags['image-tag'], registryHost },
      ),
    );
    if (!this.jsonEnabled()) printResult(`Published ${result.imageId}: ${result.pushed.join(', ')}`);
    return result;
  }
}
