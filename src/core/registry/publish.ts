import { OperationFailed, UserError } from '../../domain/errors.js';
import type { LocalFiles } from '../../ports/local-files.js';
import type { Reporter } from '../../ports/reporter.js';
import type { RemoteHost } from '../../ports/remote-host.js';
import { PODMAN_LOAD, podmanPush, podmanRemove, registryGet } from '../../remote/registry.js';
import { outputTail } from '../remote/output-lines.js';
import { imageIdFromManifest, readManifest } from './image-archive.js';

export const REGISTRY_PORT = 5000;

const IMAGE_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function checkImageReference(name: string, tag: string): void {
  if (!IMAGE_NAME.test(name)) throw new UserError(`--image-name ${JSON.stringify(name)} is not an image name (lowercase letters, digits, ".", "_", "-", "/")`);
  if (!IMAGE_TAG.test(tag)) throw new UserError(`--image-tag ${JSON.stringify(tag)} is not a tag (letters, digits, "_", ".", "-"; at most 128)`);
}

async function run(host: RemoteHost, what: string, command: { argv: readonly string[] }, stdin?: Parameters<RemoteHost['exec']>[1]): Promise<Buffer> {
  const result = await host.exec(command, stdin);
  if (result.exitCode !== 0) throw new OperationFailed(`${host.target.name}: ${what} failed (exit ${result.exitCode ?? 'none'})`, outputTail(result.stdout, result.stderr));
  return result.stdout;
}

/**
 * `registry publish-image`: reads the image id from the archive's manifest.json (both layouts
 * docker save writes), streams the archive over SSH into `podman load` (never a copy on disk,
 * never whole in memory), pushes it as apps/<name>:latest and apps/<name>:<tag> to the registry
 * at <registryHost>:5000, and removes the loaded copy from the node.
 */
export async function publishImage(
  deps: { reporter: Reporter; local: LocalFiles },
  host: RemoteHost,
  params: { file: string; imageName: string; imageTag: string; registryHost: string },
): Promise<{ imageId: string; pushed: string[] }> {
  checkImageReference(params.imageName, params.imageTag);
  const imageId = imageIdFromManifest(await readManifest(() => deps.local.stream(params.file), params.file), params.file);
  const step = (message: string): void => deps.reporter.emit({ kind: 'step', host: host.target.name, message });
  step(`loading ${imageId} from ${params.file}`);
  await run(host, 'podman load', PODMAN_LOAD, { stdin: deps.local.stream(params.file) });
  const pushed: string[] = [];
  for (const tag of ['latest', params.imageTag]) {
    const destination = `${params.registryHost}:${REGISTRY_PORT}/apps/${params.imageName}:${tag}`;
    step(`pushing ${destination}`);
    await run(host, `podman push ${destination}`, podmanPush(imageId, destination));
    pushed.push(destination);
  }
  await run(host, 'podman rmi', podmanRemove(imageId));
  return { imageId, pushed };
}

export interface RegistryImage {
  readonly name: string;
  readonly tags: readonly string[];
}

/** `registry list-images`: the registry's own HTTP API (/v2/_catalog, /v2/<name>/tags/list), asked on the node. */
export async function listImages(host: RemoteHost, registryHost: string): Promise<RegistryImage[]> {
  const base = `http://${registryHost}:${REGISTRY_PORT}/v2`;
  const json = async (url: string): Promise<unknown> => {
    const body = await run(host, `GET ${url}`, registryGet(url));
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      throw new OperationFailed(`${host.target.name}: ${url} did not answer JSON`);
    }
  };
  const catalog = (await json(`${base}/_catalog`)) as { repositories?: unknown };
  const names = Array.isArray(catalog.repositories) ? catalog.repositories.filter((r): r is string => typeof r === 'string') : [];
  const images: RegistryImage[] = [];
  for (const name of names.sort()) {
    if (!IMAGE_NAME.test(name)) continue;
    const tags = (await json(`${base}/${name}/tags/list`)) as { tags?: unknown };
    images.push({ name, tags: Array.isArray(tags.tags) ? tags.tags.filter((t): t is string => typeof t === 'string').sort() : [] });
  }
  return images;
}
