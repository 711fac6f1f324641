import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { runCli } from './support/cli.js';
import { tempDir } from './support/repo.js';
import { canRunSandbox, startSandbox } from './support/sandbox.js';

const skip = canRunSandbox() ? false : 'sandbox hosts need root';

/** A small image archive as `docker save` writes it: manifest.json naming the config blob. */
async function imageArchive(dir: string, layout: 'oci' | 'legacy'): Promise<{ file: string; id: string }> {
  const root = path.join(dir, `image-${layout}`);
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') });
  const digest = createHash('sha256').update(config).digest('hex');
  const configPath = layout === 'oci' ? `blobs/sha256/${digest}` : `${digest}.json`;
  await mkdir(path.dirname(path.join(root, configPath)), { recursive: true });
  await writeFile(path.join(root, configPath), config);
  // Some bulk, so the stream is more than a few blocks.
  await writeFile(path.join(root, 'layer.tar'), randomBytes(300_000));
  await writeFile(path.join(root, 'manifest.json'), JSON.stringify([{ Config: configPath, RepoTags: ['web:dev'], Layers: ['layer.tar'] }]));
  const file = path.join(dir, `web-${layout}.tar`);
  // manifest.json deliberately after the layer: the reader must skip entries to find it.
  execFileSync('tar', ['-cf', file, '-C', root, 'layer.tar', configPath, 'manifest.json']);
  return { file, id: digest.slice(0, 12) };
}

describe('registry on a sandbox host', { skip, timeout: 120_000 }, () => {
  it('publish-image streams the archive byte for byte into podman load and pushes both tags; list-images reads the registry API', async (t) => {
    const dir = await tempDir(t, 'nix-infra-registry-');
    const sandbox = await startSandbox(t, { hosts: 1, project: dir });
    const oci = await imageArchive(dir, 'oci');
    const publish = await runCli(['registry', 'publish-image', '-d', dir, '--target', 'node001', '--use-localhost', '--file', oci.file, '--image-name', 'web', '--image-tag', '1.0', '--json']);
    assert.equal(publish.code, 0, publish.stderr);
    assert.deepEqual(JSON.parse(publish.stdout), { imageId: oci.id, pushed: ['127.0.0.1:5000/apps/web:latest', '127.0.0.1:5000/apps/web:1.0'] });
    const loaded = await readFile(path.join(sandbox.hosts[0]?.upperDir ?? '', 'var', 'log', 'nix-infra-sandbox', 'podman.stdin.1'));
    assert.ok(loaded.equals(await readFile(oci.file)), 'podman load received the archive byte for byte');
    assert.deepEqual((await sandbox.calls('node001')).map((c) => c.join(' ')), [
      'podman load',
      `podman push ${oci.id} 127.0.0.1:5000/apps/web:latest`,
      `podman push ${oci.id} 127.0.0.1:5000/apps/web:1.0`,
      `podman rmi ${oci.id}`,
    ]);

    // The older layout (<hex>.json), gzip-compressed as upstream's app_images/*.tar.gz are.
    const legacy = await imageArchive(dir, 'legacy');
    const gz = `${legacy.file}.gz`;
    await writeFile(gz, gzipSync(await readFile(legacy.file)));
    const again = await runCli(['registry', 'publish-image', '-d', dir, '--target', 'node001', '--use-localhost', '--file', gz, '--image-name', 'web', '--image-tag', '0.9']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`Published ${legacy.id}`));

    const bad = await runCli(['registry', 'publish-image', '-d', dir, '--target', 'node001', '--use-localhost', '--file', gz, '--image-name', 'Web App', '--image-tag', '1']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--image-name "Web App" is not an image name/);

    // A registry API on the node's loopback (a static stand-in for the registry's /v2 answers).
    await sandbox.exec('node001', ['sh', '-c', [
      'mkdir -p /srv/registry/v2/apps/web/tags /srv/registry/v2/apps/api/tags',
      `printf '%s' '{"repositories":["apps/web","apps/api"]}' > /srv/registry/v2/_catalog`,
      `printf '%s' '{"name":"apps/web","tags":["latest","1.0"]}' > /srv/registry/v2/apps/web/tags/list`,
      `printf '%s' '{"name":"apps/api","tags":["2.1"]}' > /srv/registry/v2/apps/api/tags/list`,
      'cd /srv/registry && nohup python3 -m http.server 5000 --bind 127.0.0.1 >/dev/null 2>&1 &',
    ].join(' && ')]);
    let list = await runCli(['registry', 'list-images', '-d', dir, '--target', 'node001', '--use-localhost', '--json']);
    for (let attempt = 0; attempt < 30 && list.code !== 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      list = await runCli(['registry', 'list-images', '-d', dir, '--target', 'node001', '--use-localhost', '--json']);
    }
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), { images: [{ name: 'apps/api', tags: ['2.1'] }, { name: 'apps/web', tags: ['1.0', 'latest'] }] });
  });
});
