#!/usr/bin/env bash
# Installs agor's Unix isolation (insulated and strict modes; DESIGN.md §2, daemon/priv/README.md):
#   - the daemon user (system account, home 0700), the users group, the executor user (uid >= 1000);
#   - root-owned copies of agor-priv (launcher + bundle), of the executor bundle and of the agent
#     SDKs with their native CLIs (the executor's run-time node_modules) in /usr/local/libexec/agor/;
#   - /etc/agor/priv.yaml (agor-priv's configuration, root 0644);
#   - /etc/agor/accounts/ (the registry of the accounts agor-priv created; accounts an earlier
#     agor-priv made are registered when they are exactly what it makes);
#   - worktrees_root (owned by the daemon user, 0711);
#   - /etc/sudoers.d/agor (0440), checked with visudo first.
# Run as root after `npm run build`. Re-running is safe; --uninstall removes what this installed
# (never people's data: homes and worktrees stay, and only accounts carrying this script's marker
# are removed).
set -euo pipefail
umask 022

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIBEXEC=/usr/local/libexec/agor
ETC_DIR=/etc/agor
PRIV_YAML="$ETC_DIR/priv.yaml"
STATE="$ETC_DIR/install.state"
SUDOERS_DEST=/etc/sudoers.d/agor
MIN_UID=1000
MARK_DAEMON="agor daemon"
MARK_EXECUTOR="agor executor"
MARK_PERSON="agor user" # GECOS agor-priv ensure-user gives the accounts it creates
# The packages the executor bundle imports at run time (the externals of scripts/build-bundles.mjs).
EXECUTOR_PACKAGES="@anthropic-ai/claude-agent-sdk @openai/codex-sdk @google/gemini-cli"

DAEMON_USER=agor
EXECUTOR_USER=agor_executor
USERS_GROUP=agor_users
WORKTREES_ROOT=/var/lib/agor/worktrees
DAEMON_HOME=/var/lib/agor/home
SANDBOXES_ROOT=
NODE_ARG=
UNINSTALL=0
SYSTEMD=0
UNIT_DEST=/etc/systemd/system/agor.service

say() { printf 'install-unix-isolation: %s\n' "$*"; }
die() { printf 'install-unix-isolation: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<EOF
usage: $0 [--daemon-user NAME] [--executor-user NAME] [--users-group NAME]
          [--worktrees-root DIR] [--daemon-home DIR] [--sandboxes-root DIR] [--node PATH] [--systemd] [--uninstall]
  --daemon-user NAME     account the daemon runs as (default agor)
  --executor-user NAME   insulated mode's identity, agor_* (default agor_executor)
  --users-group NAME     group of the accounts agor creates, agor_* (default agor_users)
  --worktrees-root DIR   where worktrees live (default /var/lib/agor/worktrees)
  --daemon-home DIR      the daemon user's home, 0700 (default /var/lib/agor/home)
  --sandboxes-root DIR   root-owned home of the sandboxes' private HOME and TMPDIR directories
                         (default: sandboxes/ beside the worktrees root)
  --node PATH            Node.js binary (default: \`command -v node\`)
  --systemd              also install $UNIT_DEST (scripts/agor.service) running the daemon
                         as the daemon user; the master secret goes in /etc/agor/master.key (root 0600)
  --uninstall            remove what this script installed (users' data is kept)
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --daemon-user|--executor-user|--users-group|--worktrees-root|--daemon-home|--sandboxes-root|--node)
      [ $# -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --daemon-user) DAEMON_USER=$2 ;;
        --executor-user) EXECUTOR_USER=$2 ;;
        --users-group) USERS_GROUP=$2 ;;
        --worktrees-root) WORKTREES_ROOT=$2 ;;
        --daemon-home) DAEMON_HOME=$2 ;;
        --sandboxes-root) SANDBOXES_ROOT=$2 ;;
        --node) NODE_ARG=$2 ;;
      esac
      shift 2 ;;
    --uninstall) UNINSTALL=1; shift ;;
    --systemd) SYSTEMD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[ "$(id -u)" = 0 ] || die "must run as root (it creates accounts and installs a sudoers rule)"

# ---------------------------------------------------------------------------------------------
# Validation of names and paths (the same rules agor-priv applies to priv.yaml)

valid_abs_dir() { # normalised absolute path other than /
  case "$1" in /*) ;; *) return 1 ;; esac
  case "$1" in */|*//*|*/./*|*/../*|*/.|*/..) return 1 ;; esac
  [ "$1" != / ]
}

check_names() {
  [[ "$DAEMON_USER" =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] && [ "$DAEMON_USER" != root ] || die "--daemon-user '$DAEMON_USER' must be a plain user name other than root"
  [[ "$EXECUTOR_USER" =~ ^agor_[a-z0-9_]{1,24}$ ]] && [[ "$EXECUTOR_USER" != agor_wt_* ]] && [ "$EXECUTOR_USER" != "$DAEMON_USER" ] ||
    die "--executor-user '$EXECUTOR_USER' must match ^agor_[a-z0-9_]{1,24}\$, not start with agor_wt_ and differ from the daemon user"
  [[ "$USERS_GROUP" =~ ^agor_[a-z0-9_]{1,24}$ ]] && [[ "$USERS_GROUP" != agor_wt_* ]] && [ "$USERS_GROUP" != "$EXECUTOR_USER" ] && [ "$USERS_GROUP" != "$DAEMON_USER" ] ||
    die "--users-group '$USERS_GROUP' must match ^agor_[a-z0-9_]{1,24}\$, not start with agor_wt_ and differ from the user names"
  valid_abs_dir "$WORKTREES_ROOT" || die "--worktrees-root '$WORKTREES_ROOT' must be a normalised absolute path other than /"
  [ -n "$SANDBOXES_ROOT" ] || SANDBOXES_ROOT=$(dirname -- "$WORKTREES_ROOT")/sandboxes
  valid_abs_dir "$SANDBOXES_ROOT" || die "--sandboxes-root '$SANDBOXES_ROOT' must be a normalised absolute path other than /"
  case "$SANDBOXES_ROOT/" in "$WORKTREES_ROOT"/*|"$DAEMON_HOME"/*) die "--sandboxes-root must lie outside the worktrees root and the daemon's home" ;; esac
  valid_abs_dir "$DAEMON_HOME" || die "--daemon-home '$DAEMON_HOME' must be a normalised absolute path other than /"
  case "$WORKTREES_ROOT/" in "$DAEMON_HOME"/*) die "--worktrees-root must not be inside the daemon's home (0700): executors could not reach it" ;; esac
}

need_tools() {
  local missing=() t
  for t in "$@"; do [ -x "$t" ] || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]} (on Debian/Ubuntu: apt-get install -y sudo acl passwd util-linux coreutils bubblewrap)"
}

# Root-owned and not group/other-writable, itself and every directory above it. With "x", also
# usable by everyone (o+x on each directory and on the file).
trusted_path() { # path [x]
  local p owner mode
  p=$(readlink -f -- "$1") || return 1
  while :; do
    read -r owner mode < <(stat -c '%u %a' -- "$p") || return 1
    [ "$owner" = 0 ] || return 1
    (( (8#$mode & 8#022) == 0 )) || return 1
    if [ "${2:-}" = x ]; then (( (8#$mode & 8#001) != 0 )) || return 1; fi
    [ "$p" = / ] && return 0
    p=$(dirname -- "$p")
  done
}

record() { # kind name: remember that this script created it (for --uninstall)
  install -d -o root -g root -m 0755 "$ETC_DIR"
  touch "$STATE"; chmod 0644 "$STATE"
  grep -qxF "$1 $2" "$STATE" || printf '%s %s\n' "$1" "$2" >>"$STATE"
}

gecos_of() { getent passwd -- "$1" | cut -d: -f5; }

# Replaces $2 by the content of $1 atomically (same directory, then rename).
install_file() { # src dest mode
  local tmp="$2.new.$$"
  install -o root -g root -m "$3" -- "$1" "$tmp"
  mv -f -- "$tmp" "$2"
}

# ---------------------------------------------------------------------------------------------
# Uninstall

uninstall() {
  local key value
  if [ -f "$PRIV_YAML" ]; then
    # The installed configuration says what was installed; it wins over flags.
    while IFS= read -r line; do
      key=${line%%:*}; value=${line#*:}; value=${value#"${value%%[! ]*}"}
      case "$key" in
        daemon_user) DAEMON_USER=$value ;;
        executor_user) EXECUTOR_USER=$value ;;
        users_group) USERS_GROUP=$value ;;
        worktrees_root) WORKTREES_ROOT=$value ;;
        sandboxes_root) SANDBOXES_ROOT=$value ;;
      esac
    done < <(grep -E '^(daemon_user|executor_user|users_group|worktrees_root|sandboxes_root):' "$PRIV_YAML")
    say "uninstalling the installation described by $PRIV_YAML (daemon user $DAEMON_USER, executor user $EXECUTOR_USER)"
  fi
  check_names
  local created_group=0 failed=0
  [ -f "$STATE" ] && grep -qxF "group $USERS_GROUP" "$STATE" && created_group=1

  if [ -f "$SUDOERS_DEST" ]; then
    if grep -qF "$LIBEXEC/agor-priv" "$SUDOERS_DEST"; then rm -f -- "$SUDOERS_DEST"; say "removed $SUDOERS_DEST"
    else say "kept $SUDOERS_DEST: it does not hold agor's rule"; fi
  fi
  if [ -f "$UNIT_DEST" ] && grep -qF 'agor daemon (AI coding agents' "$UNIT_DEST"; then
    systemctl disable --now agor.service 2>/dev/null || true
    rm -f -- "$UNIT_DEST"; say "removed $UNIT_DEST"
    systemctl daemon-reload 2>/dev/null || true
  fi
  if [ -d "$LIBEXEC" ]; then rm -rf -- "$LIBEXEC"; say "removed $LIBEXEC"; fi
  if [ -f "$PRIV_YAML" ]; then rm -f -- "$PRIV_YAML"; say "removed $PRIV_YAML"; fi
  if [ -d "$ETC_DIR/accounts" ]; then rm -rf -- "$ETC_DIR/accounts"; say "removed $ETC_DIR/accounts (the accounts stay; a new install registers them again)"; fi
  rm -f -- "$STATE"
  rmdir "$ETC_DIR" 2>/dev/null && say "removed $ETC_DIR" || true

  local user mark home
  for user in "$DAEMON_USER" "$EXECUTOR_USER"; do
    if [ "$user" = "$DAEMON_USER" ]; then mark=$MARK_DAEMON; else mark=$MARK_EXECUTOR; fi
    getent passwd -- "$user" >/dev/null || continue
    if [ "$(gecos_of "$user")" != "$mark" ]; then
      say "kept user $user: not created by this script (GECOS is not \"$mark\")"
      continue
    fi
    home=$(getent passwd -- "$user" | cut -d: -f6)
    if userdel -- "$user"; then say "removed user $user (home $home kept)"
    else say "could not remove user $user (is a process still running as it?)"; failed=1; fi
  done

  if getent group -- "$USERS_GROUP" >/dev/null; then
    local members primary
    members=$(getent group -- "$USERS_GROUP" | cut -d: -f4)
    primary=$(getent passwd | awk -F: -v gid="$(getent group -- "$USERS_GROUP" | cut -d: -f3)" '$4 == gid' | head -n1)
    if [ "$created_group" != 1 ]; then say "kept group $USERS_GROUP: not created by this script"
    elif [ -n "$members" ] || [ -n "$primary" ]; then say "kept group $USERS_GROUP: it still has members ($members)"
    elif groupdel -- "$USERS_GROUP"; then say "removed group $USERS_GROUP"
    else say "could not remove group $USERS_GROUP"; failed=1; fi
  fi
  [ -e "$WORKTREES_ROOT" ] && say "kept $WORKTREES_ROOT (worktrees are users' data)"
  [ -e "$SANDBOXES_ROOT" ] && say "kept $SANDBOXES_ROOT (the sandboxes' private homes are users' data)"
  [ "$failed" = 0 ] || die "uninstall incomplete (see above)"
  say "uninstalled"
}

if [ "$UNINSTALL" = 1 ]; then
  uninstall
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Install

check_names
need_tools /usr/sbin/useradd /usr/sbin/groupadd /usr/sbin/groupdel /usr/bin/gpasswd /usr/bin/getent /usr/sbin/visudo \
  /usr/bin/sudo /usr/bin/setfacl /usr/bin/setpriv /usr/bin/env /usr/bin/id /usr/sbin/runuser /usr/bin/bwrap
BUNDLE="$REPO/dist/priv/agor-priv.mjs"
[ -f "$BUNDLE" ] || die "$BUNDLE is missing: run \`npm run build\` (or \`npm run build:priv\`) first"

# Node: agor-priv runs as root on it and the executor runs on it as other identities, so it must be
# root's and reachable by everyone. A Node that is not (nvm under a home, a user-owned prefix) is
# copied into $LIBEXEC.
if [ -n "$NODE_ARG" ]; then NODE_SRC=$NODE_ARG; else NODE_SRC=$(command -v node || true); fi
[ -n "$NODE_SRC" ] && [ -x "$NODE_SRC" ] || die "no Node.js found: pass --node PATH"
NODE_SRC=$(readlink -f -- "$NODE_SRC")
install -d -o root -g root -m 0755 "$LIBEXEC"
if trusted_path "$NODE_SRC" x; then
  NODE_PATH=$NODE_SRC
  say "node: $NODE_PATH (root-owned, usable by every identity)"
else
  install_file "$NODE_SRC" "$LIBEXEC/node" 0755
  NODE_PATH=$LIBEXEC/node
  say "node: copied $NODE_SRC to $NODE_PATH (the original is not root-owned or not reachable by every identity)"
fi
"$NODE_PATH" -e 'const [a]=process.versions.node.split(".").map(Number); process.exit(a >= 20 ? 0 : 1)' || die "$NODE_PATH is older than Node 20"

# Users group, daemon user, executor user.
if getent group -- "$USERS_GROUP" >/dev/null; then
  say "group $USERS_GROUP: exists (gid $(getent group -- "$USERS_GROUP" | cut -d: -f3))"
else
  groupadd --system -- "$USERS_GROUP"
  record group "$USERS_GROUP"
  say "group $USERS_GROUP: created (gid $(getent group -- "$USERS_GROUP" | cut -d: -f3))"
fi

if getent passwd -- "$DAEMON_USER" >/dev/null; then
  [ "$(id -u -- "$DAEMON_USER")" != 0 ] || die "daemon user $DAEMON_USER has uid 0"
  say "user $DAEMON_USER (daemon): exists (uid $(id -u -- "$DAEMON_USER"))"
else
  install -d -o root -g root -m 0755 "$(dirname -- "$DAEMON_HOME")"
  useradd --system --create-home --home-dir "$DAEMON_HOME" --shell /bin/bash --user-group --comment "$MARK_DAEMON" -- "$DAEMON_USER"
  record user "$DAEMON_USER"
  say "user $DAEMON_USER (daemon): created (uid $(id -u -- "$DAEMON_USER"), home $DAEMON_HOME)"
fi
DAEMON_HOME_REAL=$(getent passwd -- "$DAEMON_USER" | cut -d: -f6)
if [ -d "$DAEMON_HOME_REAL" ] && [ ! -L "$DAEMON_HOME_REAL" ] && [ "$(stat -c %U -- "$DAEMON_HOME_REAL")" = "$DAEMON_USER" ]; then
  chmod 0700 -- "$DAEMON_HOME_REAL"
  say "home $DAEMON_HOME_REAL: 0700, owned by $DAEMON_USER"
else
  say "warning: the daemon user's home $DAEMON_HOME_REAL is not a directory it owns; AGOR_HOME must be 0700 and elsewhere"
fi

if getent passwd -- "$EXECUTOR_USER" >/dev/null; then
  uid=$(id -u -- "$EXECUTOR_USER")
  [ "$uid" -ge "$MIN_UID" ] || die "executor user $EXECUTOR_USER has uid $uid, below $MIN_UID: agor-priv would refuse it"
  say "user $EXECUTOR_USER (executor): exists (uid $uid)"
else
  useradd --create-home --shell /bin/bash --user-group --comment "$MARK_EXECUTOR" -K UID_MIN=$MIN_UID -K GID_MIN=$MIN_UID -- "$EXECUTOR_USER"
  record user "$EXECUTOR_USER"
  home=$(getent passwd -- "$EXECUTOR_USER" | cut -d: -f6)
  [ -d "$home" ] && [ ! -L "$home" ] && chmod 0700 -- "$home"
  say "user $EXECUTOR_USER (executor): created (uid $(id -u -- "$EXECUTOR_USER"), home $home 0700, password locked)"
fi

# agor-priv: the bundle and a launcher sudo can execute. The launcher is a bash script (bash -p:
# no startup files, nothing from the environment, which sudo has reset anyway) that runs the bundle
# with the absolute Node path (no `env`: sudo's env_reset and secure_path must not decide which node
# runs as root). For `exec` it asks the bundle for the validated plan (one argument per line,
# \xHH-escaped) and exec's it in its own place, so no root process but sudo stays while an
# executor or shell runs; every other verb, and every refusal (with its exit code), is the bundle's.
install_file "$BUNDLE" "$LIBEXEC/agor-priv.mjs" 0644
say "installed $LIBEXEC/agor-priv.mjs (root 0644)"
LAUNCHER_TMP=$(mktemp)
cat >"$LAUNCHER_TMP" <<EOF
#!/bin/bash -p
# agor-priv launcher, written by scripts/install-unix-isolation.sh (daemon/priv/README.md).
set -u
if [ "\${1-}" != exec ]; then
  exec '$NODE_PATH' '$LIBEXEC/agor-priv.mjs' "\$@"
fi
plan=\$(AGOR_PRIV_HANDOVER=1 '$NODE_PATH' '$LIBEXEC/agor-priv.mjs' "\$@")
rc=\$?
[ "\$rc" = 0 ] || exit "\$rc"
argv=()
while IFS= read -r line; do printf -v arg '%b' "\$line"; argv+=("\$arg"); done <<<"\$plan"
if [ "\${#argv[@]}" -lt 2 ] || [ "\${argv[0]}" != /usr/bin/setpriv ]; then
  echo 'agor-priv: internal: the exec plan is malformed' >&2
  exit 70
fi
shopt -s execfail
exec "\${argv[@]}"
echo "agor-priv: unavailable: cannot start \${argv[0]}" >&2
exit 69
EOF
install_file "$LAUNCHER_TMP" "$LIBEXEC/agor-priv" 0755
rm -f -- "$LAUNCHER_TMP"
say "installed $LIBEXEC/agor-priv (root 0755 bash launcher, Node $NODE_PATH)"

# The executor bundle and whatever sits beside it in dist/executor/ (assets it loads at run time),
# root-owned and readable by every identity.
EXECUTOR_PATH=$LIBEXEC/executor/agor-executor.mjs
if [ -f "$REPO/dist/executor/agor-executor.mjs" ]; then
  rm -rf -- "$LIBEXEC/executor.new"
  cp -R -- "$REPO/dist/executor" "$LIBEXEC/executor.new"
  chown -R root:root -- "$LIBEXEC/executor.new"
  chmod -R u+rwX,go+rX,go-w -- "$LIBEXEC/executor.new"
  rm -rf -- "$LIBEXEC/executor"
  mv -- "$LIBEXEC/executor.new" "$LIBEXEC/executor"
  say "installed $LIBEXEC/executor/ (executor bundle, root-owned, readable by all)"
else
  say "skipped the executor bundle: $REPO/dist/executor/agor-executor.mjs is not built (exec --program executor will answer 'unavailable')"
fi

# What the executor loads at run time: the agent SDKs the bundle leaves external
# (scripts/build-bundles.mjs) with their dependencies and the platform packages holding the native
# CLIs, as $LIBEXEC/runtime/<fingerprint>/node_modules (root-owned, readable by all; files that are
# already root's with the right mode are hard-linked, the rest copied). $LIBEXEC/node_modules is a
# symlink to it, swapped atomically; Node finds it from the executor's files by walking up. An
# unchanged checkout gives the same fingerprint, so a re-run reuses it instead of copying again.
if [ -d "$REPO/node_modules" ]; then
  install -d -o root -g root -m 0755 "$LIBEXEC/runtime"
  fingerprint=$("$NODE_PATH" "$REPO/scripts/install-executor-runtime.mjs" "$REPO" "$LIBEXEC/runtime" $EXECUTOR_PACKAGES) ||
    die "could not install the executor's run-time packages (see above)"
  [[ "$fingerprint" =~ ^[0-9a-f]{16}$ ]] || die "install-executor-runtime.mjs printed an unexpected fingerprint: $fingerprint"
  rm -rf -- "$LIBEXEC/node_modules.new"
  ln -s -- "runtime/$fingerprint/node_modules" "$LIBEXEC/node_modules.new"
  mv -fT -- "$LIBEXEC/node_modules.new" "$LIBEXEC/node_modules"
  for old in "$LIBEXEC"/runtime/*; do
    [ "$(basename -- "$old")" = "$fingerprint" ] || rm -rf -- "$old"
  done
  say "installed $LIBEXEC/node_modules -> runtime/$fingerprint/node_modules ($(wc -l <"$LIBEXEC/runtime/$fingerprint/packages.txt") packages for $EXECUTOR_PACKAGES; $(du -sh --apparent-size -- "$LIBEXEC/runtime/$fingerprint" | cut -f1))"
else
  say "skipped the agent SDKs: $REPO/node_modules is missing (npm ci): only command agents will run"
fi

# priv.yaml
install -d -o root -g root -m 0755 "$ETC_DIR"
YAML_TMP=$(mktemp)
cat >"$YAML_TMP" <<EOF
# agor-priv's configuration, written by scripts/install-unix-isolation.sh. Read only by agor-priv
# (as root); it refuses to run unless this file is root-owned and not group/other-writable.
daemon_user: $DAEMON_USER
executor_user: $EXECUTOR_USER
users_group: $USERS_GROUP
worktrees_root: $WORKTREES_ROOT
executor_path: $EXECUTOR_PATH
node_path: $NODE_PATH
min_uid: $MIN_UID
sandboxes_root: $SANDBOXES_ROOT
EOF
install_file "$YAML_TMP" "$PRIV_YAML" 0644
rm -f -- "$YAML_TMP"
say "wrote $PRIV_YAML (root 0644)"

# worktrees_root: the daemon creates worktrees in it; others may only traverse it (0711).
parent=$(dirname -- "$WORKTREES_ROOT")
[ -d "$parent" ] || { install -d -o root -g root -m 0755 "$parent"; say "created $parent (root 0755)"; }
[ ! -L "$WORKTREES_ROOT" ] || die "$WORKTREES_ROOT is a symlink; give its real path"
if [ -d "$WORKTREES_ROOT" ]; then verb=exists; else mkdir -- "$WORKTREES_ROOT"; verb=created; fi
chown -- "$DAEMON_USER:$(id -gn -- "$DAEMON_USER")" "$WORKTREES_ROOT"
chmod 0711 -- "$WORKTREES_ROOT"
p=$parent
while :; do
  read -r owner mode < <(stat -c '%u %a' -- "$p")
  [ "$owner" = 0 ] || die "$p (above worktrees_root) must be owned by root"
  (( (8#$mode & 8#001) != 0 )) || die "$p (above worktrees_root) must be searchable by others (o+x) so identities can reach their worktrees"
  (( (8#$mode & 8#022) == 0 || (8#$mode & 8#1000) != 0 )) || die "$p (above worktrees_root) is writable by group/others without the sticky bit"
  [ "$p" = / ] && break
  p=$(dirname -- "$p")
done
say "worktrees root $WORKTREES_ROOT: $verb, owned by $DAEMON_USER, 0711"

# sandboxes_root: agor-priv keeps each identity's private HOME and TMPDIR per worktree below it
# (<group>/<user>/{home,tmp}); root-owned and writable by nobody else, so nothing on the way can be
# swapped for a symlink. Every sandbox hides it.
[ ! -L "$SANDBOXES_ROOT" ] || die "$SANDBOXES_ROOT is a symlink; give its real path"
[ -d "$(dirname -- "$SANDBOXES_ROOT")" ] || install -d -o root -g root -m 0755 "$(dirname -- "$SANDBOXES_ROOT")"
install -d -o root -g root -m 0711 "$SANDBOXES_ROOT"
chown root:root -- "$SANDBOXES_ROOT"; chmod 0711 -- "$SANDBOXES_ROOT"
p=$(dirname -- "$SANDBOXES_ROOT")
while :; do
  read -r owner mode < <(stat -c '%u %a' -- "$p")
  [ "$owner" = 0 ] || die "$p (above sandboxes_root) must be owned by root"
  (( (8#$mode & 8#022) == 0 || (8#$mode & 8#1000) != 0 )) || die "$p (above sandboxes_root) is writable by group/others without the sticky bit"
  [ "$p" = / ] && break
  p=$(dirname -- "$p")
done
say "sandboxes root $SANDBOXES_ROOT: root 0711"

# sudoers: the one rule, for the real daemon user; checked alone, then with the whole configuration.
SUDOERS_TMP=$(mktemp)
sed -e "s/^Defaults:agor /Defaults:$DAEMON_USER /" -e "s/^agor ALL=/$DAEMON_USER ALL=/" "$REPO/sudoers/agor.sudoers" >"$SUDOERS_TMP"
visudo -cqf "$SUDOERS_TMP" || die "the generated sudoers file does not pass visudo -cf (left at $SUDOERS_TMP)"
BACKUP=
if [ -f "$SUDOERS_DEST" ]; then BACKUP=$(mktemp); cp -p -- "$SUDOERS_DEST" "$BACKUP"; fi
# A name containing "." is ignored by sudo's @includedir, so the temporary file is never live.
install_file "$SUDOERS_TMP" "$SUDOERS_DEST" 0440
rm -f -- "$SUDOERS_TMP"
if ! visudo -cq >/dev/null; then
  if [ -n "$BACKUP" ]; then install_file "$BACKUP" "$SUDOERS_DEST" 0440; else rm -f -- "$SUDOERS_DEST"; fi
  die "the sudo configuration as a whole no longer parses with $SUDOERS_DEST; restored the previous state"
fi
[ -n "$BACKUP" ] && rm -f -- "$BACKUP"
say "installed $SUDOERS_DEST (0440): $DAEMON_USER ALL=(root) NOPASSWD: $LIBEXEC/agor-priv"

# Smoke test: as the daemon user, through sudo, agor-priv must pass its ownership and configuration
# checks and then refuse an empty command line as a usage error (64).
set +e
out=$(runuser -u "$DAEMON_USER" -- /usr/bin/sudo -n "$LIBEXEC/agor-priv" 2>&1)
rc=$?
set -e
[ "$rc" = 64 ] || die "smoke test failed: \`sudo -n $LIBEXEC/agor-priv\` as $DAEMON_USER exited $rc: $out"
say "smoke test: $DAEMON_USER reaches agor-priv through sudo (it answered a usage error, as expected)"

# The registry of the accounts agor-priv created (/etc/agor/accounts/<name>). Accounts an earlier
# agor-priv made before the registry existed are registered now by agor-priv's own rule (ensure-user
# adopts an account only if it is exactly what it creates: GECOS "agor user", a primary group of its
# own, a member of the users group and of no group but agor's); any other is reported and stays
# unusable for agor until an administrator fixes or removes it.
install -d -o root -g root -m 0755 "$ETC_DIR/accounts"
while IFS=: read -r name _ uid _ gecos _; do
  case "$name" in agor_wt_*) continue ;; agor_*) ;; *) continue ;; esac
  [ "$gecos" = "$MARK_PERSON" ] && [ "$uid" -ge "$MIN_UID" ] && [ ! -e "$ETC_DIR/accounts/$name" ] || continue
  if out=$("$LIBEXEC/agor-priv" ensure-user --user "$name" 2>&1); then say "registered $name, an account an earlier agor-priv created"
  else say "did not register $name: $out"; fi
done < <(getent passwd)
# The systemd unit (--systemd): the daemon as a service of the daemon user. The master secret
# file is the administrator's to create (it is never generated or copied by this script).
if [ "$SYSTEMD" = 1 ]; then
  [ -f "$REPO/dist/cli/main.js" ] || die "--systemd: $REPO/dist/cli/main.js is missing; run \`npm run build\` first"
  UNIT_TMP=$(mktemp)
  sed -e "s|@NODE@|$NODE_PATH|g; s|@AGOR_CLI@|$REPO/dist/cli/main.js|g; s|@AGOR_DIR@|$REPO|g; s|@DAEMON_USER@|$DAEMON_USER|g; s|@DAEMON_HOME@|$DAEMON_HOME_REAL|g" \
    "$REPO/scripts/agor.service" >"$UNIT_TMP"
  if command -v systemd-analyze >/dev/null; then
    VERIFY=$(systemd-analyze verify "$UNIT_TMP" 2>&1 || true)
    [ -z "$VERIFY" ] || say "systemd-analyze verify says: $VERIFY"
  fi
  install_file "$UNIT_TMP" "$UNIT_DEST" 0644
  rm -f -- "$UNIT_TMP"
  say "installed $UNIT_DEST"
  [ -f "$ETC_DIR/master.key" ] || say "create the master secret before starting it: (umask 077; openssl rand -base64 32 > $ETC_DIR/master.key)"
  if [ -d /run/systemd/system ]; then systemctl daemon-reload && say "enable it with: systemctl enable --now agor"
  else say "systemd is not running here: the unit takes effect on a machine booted with systemd"; fi
fi
say "done"
