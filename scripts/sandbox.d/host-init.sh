#!/bin/sh
# One sandbox host's init. Started by scripts/sandbox (launch_host) as pid 1 of a fresh pid
# namespace, already inside the host's own network, UTS and private mount namespaces, so:
#   - every mount below stays in this host's mount namespace (nothing leaks to the machine);
#   - when this process dies (exit, or SIGKILL from stop-host/down), the kernel kills every
#     process of the host, and the mount namespace, with its overlay, goes away with them.
# It stays a small supervisor: it mounts the host's filesystem once, then "boots" (new boot id,
# fresh /run, changes staged for the next boot, sshd as its child) and waits:
#   SIGUSR1      reboot: kill every other process of the host, stay down for
#                /etc/nix-infra-sandbox/reboot.delay seconds (default 1), boot again
#   SIGTERM/INT/HUP  halt (pid 1 exits; the host and all its processes are gone)
#   sshd exits by itself: halt too, so scripts/sandbox sees a host whose sshd never listened
# Files it keeps in HOST_DIR (on the machine, hidden from the host):
#   init.pid   this process's pid in the machine's pid namespace (scripts/sandbox records it)
#   sshd.pid   the running sshd's pid, likewise; absent while the host is down or rebooting
#   boot_id    the host's boot id, bind-mounted read-only over its
#              /proc/sys/kernel/random/boot_id; a new UUID at every boot
# Usage: host-init.sh HOST_DIR STATE_DIR HOST_NAME IP
set -eu
dir=$1 state=$2 name=$3 ip=$4
root=$dir/merged
boot_id=/proc/sys/kernel/random/boot_id

# This /proc still belongs to the machine's pid namespace, so this is the pid `down` must kill.
read -r pid _ </proc/self/stat
echo "$pid" >"$dir/init.pid"
rm -f "$dir/sshd.pid"

# The host's filesystem: the machine's / underneath, its own writes in upper/ (which the
# machine, and so the tests, can read).
mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/upper,workdir=$dir/work" "$root"
mount --rbind /dev "$root/dev"
# Mounted from this pid namespace: the host's /proc shows the host's processes only.
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
# Hide the sandbox's own state (the client key, the other hosts' layers) from the host.
if [ -d "$root$state" ]; then mount -t tmpfs -o mode=0700,size=1m tmpfs "$root$state"; fi
# The boot id: a file of ours over the kernel's (which is the machine's, the same on every
# host). Bound once, read-only, and rewritten in place at every boot (same length, one write)
# so that a reader in the host sees the old id or the new one, never the machine's or nothing.
uuid=$(cat /proc/sys/kernel/random/uuid)
printf '%s\n' "$uuid" >"$dir/boot_id.new"
mv -f "$dir/boot_id.new" "$dir/boot_id"
mount --bind "$dir/boot_id" "$root$boot_id"
mount -o remount,bind,ro "$root$boot_id"
set +e # from here on, pid 1 carries on (and says so in sshd.log) rather than dies

boots=0
sshd=

# others: sets $left to the pids of this host's live processes other than pid 1 (zombies count
# as dead). Builtins only: a subshell or command of ours would count itself.
others() {
  left=
  for p in "$root"/proc/[0-9]*; do
    p=${p##*/}
    [ "$p" = 1 ] && continue
    { read -r stat <"$root/proc/$p/stat"; } 2>/dev/null || continue
    stat=${stat##*) }
    [ "${stat%% *}" = Z ] || left="$left $p"
  done
}

# known_keys TYPE_KEY_LINES: this host's lines in the sandbox's hosts.keys become
# "IP TYPE KEY" for each line, in place of the old ones (other hosts' lines stay as they are).
known_keys() {
  (
    flock -w 30 9 || exit 1
    NEW_KEYS=$1 IP=$ip awk '
      BEGIN { n = split(ENVIRON["NEW_KEYS"], keys, "\n") }
      function put(  i) { for (i = 1; i <= n; i++) if (keys[i] != "") print ENVIRON["IP"] " " keys[i]; done = 1 }
      $1 == ENVIRON["IP"] { if (!done) put(); next }
      { print }
      END { if (!done) put() }
    ' "$state/hosts.keys" >"$state/hosts.keys.$name" && mv -f "$state/hosts.keys.$name" "$state/hosts.keys"
  ) 9>>"$state/hosts.keys.lock"
}

boot() {
  boots=$((boots + 1))
  echo "$name" >/proc/sys/kernel/hostname
  if [ "$boots" -gt 1 ]; then
    uuid=$(cat /proc/sys/kernel/random/uuid)
    printf '%s\n' "$uuid" 1<>"$dir/boot_id"
    # The last boot's /run and /dev/shm go (with whatever was mounted below them).
    for m in run dev/shm; do umount -R "$root/$m" 2>/dev/null || umount -R -l "$root/$m"; done
  fi
  # A fresh /run and /dev/shm, as after a boot; sshd wants its privilege-separation dir there.
  mount -t tmpfs -o mode=0755,size=64m tmpfs "$root/run"
  mkdir -m 0755 "$root/run/sshd"
  mount -t tmpfs -o mode=1777,size=64m tmpfs "$root/dev/shm"
  # What was staged for this boot (by the nixos-infect stand-in): run inside the host.
  changes=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$root" /usr/local/lib/nix-infra-sandbox/boot) ||
    echo "host-init: $name: boot script failed" >&2
  keys=$(printf '%s\n' "$changes" | awk '$1 == "host-key" && NF == 3 && $2 ~ "^(ssh|ecdsa)-[a-z0-9@.-]+$" && $3 ~ "^[A-Za-z0-9+/=]+$" { print $2 " " $3 }')
  if [ -n "$keys" ]; then known_keys "$keys" || echo "host-init: $name: could not update hosts.keys" >&2; fi
  (
    read -r pid _ </proc/self/stat
    echo "$pid" >"$dir/sshd.pid"
    # A background job of sh ignores SIGINT and SIGQUIT: sshd and its sessions must not.
    exec env --default-signal chroot "$root" /usr/sbin/sshd -D -e -f /etc/nix-infra-sandbox/sshd_config
  ) &
  sshd=$!
  echo "host-init: $name: boot $boots, boot id $uuid${changes:+, applied: $(printf '%s' "$changes" | cut -d' ' -f1,2 | tr '\n' ' ')}"
}

# Kills every process of the host but this one, and waits until they are gone (bounded).
shut_down() {
  rm -f "$dir/sshd.pid"
  tries=0
  while :; do
    kill -KILL -1 2>/dev/null # from pid 1: every process of this pid namespace but itself
    others
    [ -z "$left" ] && break
    tries=$((tries + 1))
    if [ "$tries" -ge 200 ]; then echo "host-init: $name: still running after SIGKILL:$left" >&2; break; fi
    sleep 0.05 # running a command also reaps the dead, our children or orphans
  done
  wait "$sshd" 2>/dev/null
}

delay() {
  # chroot lives in /usr/sbin: without it in PATH the file was never read and every delay was 1 s.
  d=$(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$root" cat /etc/nix-infra-sandbox/reboot.delay 2>/dev/null | tr -d ' \t\n')
  printf '%s' "$d" | grep -Eqx '[0-9]+(\.[0-9]+)?|\.[0-9]+' || d=1
  echo "host-init: $name: down for ${d}s"
  sleep "$d" &
  wait $! # a trapped signal (stop-host's SIGTERM) ends this wait at once
}

halt_host() {
  rm -f "$dir/sshd.pid"
  echo "host-init: $name: halted"
  exit "$1" # and with pid 1 goes every process of the host
}

want=
trap 'want=reboot' USR1
trap 'want=halt' TERM INT HUP
boot
while :; do
  status=0
  [ -n "$want" ] || wait "$sshd" || status=$?
  case $want in
    halt) halt_host 0 ;;
    reboot)
      echo "host-init: $name: rebooting"
      shut_down
      [ "$want" = halt ] && halt_host 0
      want= # a reboot asked for again while this one was shutting down is the same reboot
      delay
      [ "$want" = halt ] && halt_host 0
      want=
      boot ;;
    *)
      echo "host-init: $name: sshd exited (status $status); the host halts" >&2
      halt_host 1 ;;
  esac
done
