import type { ProjectTemplate } from './scaffold.js';

/** What an operator does after `init`, in order, as commands to copy. */
export function nextSteps(template: ProjectTemplate, options: { dir: string; sshKeySaved: boolean }): string[] {
  const d = options.dir === '.' ? '' : ` -d ${options.dir}`;
  const machines = `Say where the machines are: HCLOUD_TOKEN=... in .env (Hetzner Cloud), or a servers.yaml (see servers.example.yaml; for local test hosts: scripts/sandbox up 3 --project ${options.dir})`;
  const env = options.sshKeySaved ? [] : ['Put SSH_KEY (and the passwords you want to keep) into .env, or pass --ssh-key each time'];
  if (template === 'fleet') {
    return [
      ...env,
      machines,
      `nix-infra fleet provision${d} --node-names "web001"    # to NixOS (Hetzner: add --machine-type cx22 --location fsn1)`,
      `nix-infra fleet init-machine${d} --target "web001"`,
      `nix-infra fleet deploy-apps${d} --target "web001"       # nodes/web001.nix and app_modules/`,
    ];
  }
  return [
    ...env,
    machines,
    `nix-infra cluster provision${d} --node-names "etcd001 node001"   # to NixOS (Hetzner: add --machine-type cx22 --location fsn1)`,
    `nix-infra cluster init-ctrl${d} --target "etcd001"           # etcd and the control plane`,
    `nix-infra cluster init-node${d} --target "node001" --ctrl-nodes etcd001`,
    `nix-infra cluster deploy-apps${d} --target "node001" --ctrl-nodes etcd001   # nodes/node001.nix, app_modules/ (docs/deploy.md)`,
  ];
}
