import { UploadCommand } from '../../cli/node-commands/upload.js';

export default class ClusterUpload extends UploadCommand {
  static override examples = [
    '<%= config.bin %> <%= command.id %> --target "node001 node002" --file "./site ./motd.txt"',
    '<%= config.bin %> <%= command.id %> --target node001 --file ./bundle --remote-path /var/lib/app/incoming',
  ];
}
