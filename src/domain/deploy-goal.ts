/**
 * What `nixos-rebuild <goal>` does after a deploy's upload, as nixos-rebuild and colmena name it:
 * switch (activate now and at boot), boot (at the next boot only), test (now only, not at boot),
 * dry-activate (build, then list the units activation would touch), build (build only).
 */
export const DEPLOY_GOALS = ['switch', 'boot', 'test', 'dry-activate', 'build'] as const;
export type DeployGoal = (typeof DEPLOY_GOALS)[number];

/** Whether the goal changes the running system (/run/current-system): what status compares. */
export function goalActivates(goal: DeployGoal | undefined): boolean {
  return goal === 'switch' || goal === 'test';
}
