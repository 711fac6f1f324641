#!/bin/sh
# Becomes one sandbox host's sshd. Started by scripts/sandbox (launch_host) as pid 1 of a fresh
# pid namespace, already inside the host's own network, UTS and private mount namespaces, so:
#   - every mount below stays in this host's mount namespace (nothing leaks to the machine);
#   - when sshd (this very process, after exec) dies, the kernel kills every process of the
#     host and the mount namespace, with its overlay, goes away with them.
# Usage: host-init.sh HOST_DIR STATE_DIR HOST_NAME
set -eu
dir=$1 state=$2 name=$3
root=$dir/merged

# This /proc still belongs to the machine's pid namespace, so this is the pid `down` must kill.
read -r pid _ </proc/self/stat
echo "$pid" >"$dir/sshd.pid"
echo "$name" >/proc/sys/kernel/hostname

# The host's filesystem: the machine's / underneath, its own writes in upper/ (which the
# machine, and so the tests, can read).
mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$root"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777,size=64m tmpfs "$root/dev/shm"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
# A fresh /run, as after a boot; sshd wants its privilege-separation dir there.
mount -t tmpfs -o mode=0755,size=64m tmpfs "$root/run"
mkdir -m 0755 "$root/run/sshd"
# Hide the sandbox's own state (the client key, the other hosts' layers) from the host.
if [ -d "$root$state" ]; then mount -t tmpfs -o mode=0700,size=1m tmpfs "$root$state"; fi

exec chroot "$root" /usr/sbin/sshd -D -e -f /etc/nix-infra-sandbox/sshd_config
