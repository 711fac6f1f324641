import { RegistryCommand } from '../../cli/registry-command.js';
import { listImages, type RegistryImage } from '../../core/registry/publish.js';
import { printResult, renderTable } from '../../ui/output.js';

export default class RegistryListImages extends RegistryCommand {
  static override summary = "List the images in the registry and their tags (the registry's HTTP API, asked on the node).";
  static override description = `Reads /v2/_catalog and /v2/<name>/tags/list of the registry at the node's overlay IP (or
127.0.0.1 with --use-localhost), port 5000, with curl on the node.`;
  static override examples = ['<%= config.bin %> <%= command.id %> --target registry001', '<%= config.bin %> <%= command.id %> --target worker001 --use-localhost --json'];
  static override enableJsonFlag = true;

  async run(): Promise<{ images: RegistryImage[] }> {
    const images = await this.onRegistryNode((host, registryHost) => listImages(host, registryHost));
    if (!this.jsonEnabled()) printResult(renderTable(['IMAGE', 'TAGS'], images.map((i) => [i.name, i.tags.join(' ')])));
    return { images };
  }
}
