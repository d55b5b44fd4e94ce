#!/usr/bin/env bash
# The sandbox for JIT'd code, end to end: llvm-jitlink-22 (and clang-repl-22)
# drive target/debug/orc-rt-executor under ORC_RT_SANDBOX=<spec> or
# --sandbox=<spec>.
#
#   refusals  the probes of tests/sandbox/ print what JIT'd code observed
#             (`open /etc/passwd: EACCES`, `fork: 0 of 100 succeeded`...);
#             each is also run without a sandbox (or with the allowance) to
#             show the probe itself works
#   limits    mem=, files=, fsize=, and cpu= / wall=, which end the executor
#             with status 152 / 124 and a line on stderr (the executor's own
#             status is recorded by a wrapper script, as in test-stack.sh);
#             JIT'd code cannot raise them
#   normal    programs that need nothing the sandbox refuses (hello, file I/O
#             in rw=, pthreads, C++ exceptions, the ORC runtime, the shared
#             memory manager, --perf-support, clang-repl) give the same
#             stdout and exit code as without it
#   cli       --help, --version, --sandbox-check, --sandbox= with listen=,
#             test-jitloadergdb, a bad spec
#
# Usage: scripts/test-sandbox.sh [case-name-substring...]
# Env:   SANDBOX_KEEP=1  keep the scratch directory
# Prints PASS/FAIL per case and "sandbox: N passed, M failed"; exits 1 on a
# failure. Skips (exit 0) when LLVM 22 is missing. Every run is bounded by
# timeout; the one TCP server listens on 127.0.0.1 and ends by itself.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
filters=("$@")
unset ORC_RT_SANDBOX

for t in llvm-jitlink-22 clang-22 clang++-22 llvm-config-22; do
  if ! command -v "$t" >/dev/null; then
    echo "SKIP: $t not found (LLVM 22 is needed); sandbox tests not run"
    exit 0
  fi
done
cargo build --bin orc-rt-executor
ours="$target_dir/debug/orc-rt-executor"
rt="$(clang-22 -print-resource-dir)/lib/linux/liborc_rt-x86_64.a"
home="${HOME:-/root}"
# In the minimal root, $home does not exist (ENOENT), unless the executor
# itself lives below it: the root then holds the directories leading to
# the executor, empty, and Landlock refuses them (EACCES).
case "$(readlink -f "$ours" 2>/dev/null || echo "$ours")/" in
  "$(readlink -f "$home" 2>/dev/null || echo "$home")"/*) home_refused=EACCES ;;
  *) home_refused=ENOENT ;;
esac
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"

work="$(mktemp -d /tmp/orc-rt-sandbox.XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  if [ -n "${SANDBOX_KEEP:-}" ]; then echo "scratch kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

passed=0
failed=0
failed_names=()
run_timeout=60

want() {
  [ ${#filters[@]} -eq 0 ] && return 0
  local f
  for f in "${filters[@]}"; do
    case "$1" in *"$f"*) return 0 ;; esac
  done
  return 1
}

# verdict NAME WHY TAG...: PASS if WHY is empty, else FAIL with the output
# of the runs TAG.
verdict() {
  local name="$1" why="$2" tag
  shift 2
  if [ -z "$why" ]; then
    passed=$((passed + 1))
    echo "PASS: $name"
    return 0
  fi
  failed=$((failed + 1))
  failed_names+=("$name")
  echo "FAIL: $name:$why"
  for tag in "$@"; do
    if [ -f "$work/$tag.rc" ]; then
      echo "  --- $tag: llvm-jitlink exit $(cat "$work/$tag.rc")," \
        "executor status $(cat "$work/$tag.status" 2>/dev/null || echo '?')"
    else
      echo "  --- $tag:"
    fi
    if [ -f "$work/$tag.out" ]; then sed 's/^/  | /' "$work/$tag.out" | head -20; fi
    if [ -f "$work/$tag.err" ]; then sed 's/^/  ! /' "$work/$tag.err" | head -20; fi
  done
  return 0
}

# ------------------------------------------------------------- programs
cd "$work"
for c in "$repo"/tests/sandbox/*.c; do
  clang-22 -O1 -c "$c" -o "$(basename "${c%.c}").o"
done
clang-22 -c "$repo/examples/hello.c" -o hello.o
clang-22 -g -c "$repo/examples/hello.c" -o hello-g.o
clang-22 -c "$repo/tests/interop/pthreads.c" -o pthreads.o
clang-22 -c "$repo/tests/interop/atexit.c" -o atexit.o
clang++-22 -c "$repo/tests/interop/eh.cpp" -o eh.o
clang++-22 -fPIC -c "$repo/tests/interop/cxx_runtime.cpp" -o cxx_runtime.o
clang++-22 -fPIC -c "$repo/tests/interop/thread_local.cpp" -o thread_local.o

mkdir -p rw ro perf
# A root executor drops to a per-session uid, which must be able to reach
# the ro= and rw= paths (rw= directories it cannot write are idmapped to
# it): open the scratch directory mktemp made 0700. Landlock alone keeps
# outside.txt refused.
chmod 755 "$work"
echo "not for JIT'd code" >outside.txt
echo "readable" >ro/readable.txt

# The executor behind a wrapper that records its exit status (128+N: signal
# N) in $work/status; SBT_FLAG, if set, is passed first (--sandbox=...).
cat >wrap.sh <<EOS
#!/bin/sh
"$ours" \${SBT_FLAG:+"\$SBT_FLAG"} "\$@"
echo \$? >"$work/status"
EOS
chmod +x wrap.sh

# run TAG SPEC LLVM-JITLINK-ARGS...: runs llvm-jitlink-22 with our executor
# under SPEC ("": no sandbox; "--sandbox=X": the flag; else ORC_RT_SANDBOX);
# writes TAG.out, TAG.err, TAG.rc (llvm-jitlink), TAG.status (executor),
# TAG.time (seconds); bounded by $run_timeout seconds. stdout and stderr are
# read through pipes, so the capture ends only once the executor has closed
# them too.
run() {
  local tag="$1" spec="$2" t0
  shift 2
  rm -f status "$tag".*
  t0=$(date +%s)
  set +e
  (
    unset SBT_FLAG
    case "$spec" in
      "") ;;
      --sandbox=*) export SBT_FLAG="$spec" ;;
      *) export ORC_RT_SANDBOX="$spec" ;;
    esac
    ( (timeout "$run_timeout" llvm-jitlink-22 -oop-executor="$work/wrap.sh" "$@" </dev/null
       echo $? >"$tag.rc") 2>&1 1>&3 | timeout 90 cat >"$tag.err"
    ) 3>&1 | timeout 90 cat >"$tag.out"
  )
  set -e
  echo $(($(date +%s) - t0)) >"$tag.time"
  if [ -f status ]; then mv status "$tag.status"; else echo "?" >"$tag.status"; fi
}

# probe NAME SPEC LINE... -- LLVM-JITLINK-ARGS...: the program ran to the
# end (llvm-jitlink and executor exit 0) and printed every LINE.
probe() {
  local name="$1" spec="$2" why="" l
  shift 2
  local lines=()
  while [ "$1" != "--" ]; do
    lines+=("$1")
    shift
  done
  shift
  want "$name" || return 0
  run p "$spec" "$@"
  [ "$(cat p.rc)" = 0 ] || why+=" llvm-jitlink exit $(cat p.rc)"
  [ "$(cat p.status)" = 0 ] || why+=" executor status $(cat p.status)"
  for l in "${lines[@]}"; do
    grep -qxF -- "$l" p.out || why+=" missing '$l'"
  done
  verdict "$name" "$why" p
}

# same NAME SPEC WANT-RC WANT-LINE -- LLVM-JITLINK-ARGS...: same stdout,
# llvm-jitlink exit code and executor status under SPEC as without a
# sandbox, and the expected exit code and line.
same() {
  local name="$1" spec="$2" want_rc="$3" want_line="$4" why=""
  shift 5
  want "$name" || return 0
  run base "" "$@"
  run sbx "$spec" "$@"
  [ "$(cat base.rc)" = "$want_rc" ] || why+=" without sandbox: exit $(cat base.rc), expected $want_rc"
  cmp -s base.rc sbx.rc || why+=" exit $(cat sbx.rc) (without sandbox $(cat base.rc))"
  cmp -s base.status sbx.status ||
    why+=" executor status $(cat sbx.status) (without sandbox $(cat base.status))"
  cmp -s base.out sbx.out || why+=" stdout differs"
  grep -qxF -- "$want_line" sbx.out || why+=" missing '$want_line'"
  verdict "$name" "$why" sbx base
}

# limit NAME SPEC STATUS STDERR-LINE -- LLVM-JITLINK-ARGS...: the limit ends
# the executor with STATUS and STDERR-LINE, within 30 s.
limit() {
  local name="$1" spec="$2" want_status="$3" want_err="$4" why=""
  shift 5
  want "$name" || return 0
  run_timeout=30 run l "$spec" "$@"
  [ "$(cat l.status)" = "$want_status" ] ||
    why+=" executor status $(cat l.status), expected $want_status"
  grep -qxF -- "$want_err" l.err || why+=" missing stderr line '$want_err'"
  [ "$(cat l.time)" -lt 30 ] || why+=" took $(cat l.time) s"
  verdict "$name" "$why" l
}

# ------------------------------------------------------ a TCP server
# Listens on 127.0.0.1 (an ephemeral port), accepts and closes connections,
# and ends by itself after 10 minutes.
timeout 660 python3 -c '
import socket, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
s.settimeout(1)
end = time.time() + 600
while time.time() < end:
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
' >port.txt &
server_pid=$!
for _ in $(seq 100); do
  [ -s port.txt ] && break
  sleep 0.05
done
port="$(cat port.txt)"

# ------------------------------------------------------------- refusals
u=untrusted
probe read-no-sandbox "" \
  "open /etc/passwd: OK" "open $home: OK" "open $work/outside.txt: OK" \
  -- read_files.o -args r /etc/passwd "$home" "$work/outside.txt"
# The default root (untrusted's minimal root): outside paths do not exist.
probe read-untrusted "$u" \
  "open /etc/passwd: ENOENT" "open $home: $home_refused" "open $work/outside.txt: ENOENT" \
  "open /dev/urandom: OK" \
  -- read_files.o -args r /etc/passwd "$home" "$work/outside.txt" /dev/urandom
probe read-untrusted-flag "--sandbox=$u" \
  "open /etc/passwd: ENOENT" "open $home: $home_refused" "open /dev/urandom: OK" \
  -- read_files.o -args r /etc/passwd "$home" /dev/urandom
probe read-untrusted-ro "$u,ro=$work/ro" \
  "open $work/ro/readable.txt: OK" "open $work/ro: OK" "open $work/outside.txt: ENOENT" \
  -- read_files.o -args r "$work/ro/readable.txt" "$work/ro" "$work/outside.txt"
# Landlock alone (the host's tree kept, no-minimal-root): EACCES.
nm="$u,no-minimal-root"
probe read-landlock "$nm" \
  "open /etc/passwd: EACCES" "open $home: EACCES" "open $work/outside.txt: EACCES" \
  "open /dev/urandom: OK" \
  -- read_files.o -args r /etc/passwd "$home" "$work/outside.txt" /dev/urandom
probe read-landlock-flag "--sandbox=$nm" \
  "open /etc/passwd: EACCES" "open $home: EACCES" "open /dev/urandom: OK" \
  -- read_files.o -args r /etc/passwd "$home" /dev/urandom
probe read-landlock-ro "$nm,ro=$work/ro" \
  "open $work/ro/readable.txt: OK" "open $work/ro: OK" "open $work/outside.txt: EACCES" \
  -- read_files.o -args r "$work/ro/readable.txt" "$work/ro" "$work/outside.txt"
probe read-none "none" "open /etc/passwd: OK" -- read_files.o -args r /etc/passwd
probe read-untrusted-no-fs "$u,no-fs" "open /etc/passwd: OK" -- read_files.o -args r /etc/passwd

probe write-untrusted "$u" "create $work/rw/sandbox-probe.txt: ENOENT" \
  -- write_files.o -args w "$work/rw"
probe write-untrusted-tmp "$u" "create /tmp/sandbox-probe.txt: ENOENT" \
  -- write_files.o -args w /tmp
probe write-untrusted-ro-dir "$u,ro=$work/rw" "create $work/rw/sandbox-probe.txt: EROFS" \
  -- write_files.o -args w "$work/rw"
probe write-untrusted-outside-rw "$u,rw=$work/rw" "create $work/sandbox-probe.txt: EROFS" \
  -- write_files.o -args w "$work"
probe write-landlock "$nm" "create $work/rw/sandbox-probe.txt: EACCES" \
  -- write_files.o -args w "$work/rw"
probe write-landlock-tmp "$nm" "create /tmp/sandbox-probe.txt: EACCES" \
  -- write_files.o -args w /tmp
probe write-landlock-ro-dir "$nm,ro=$work/rw" "create $work/rw/sandbox-probe.txt: EACCES" \
  -- write_files.o -args w "$work/rw"
probe write-landlock-outside-rw "$nm,rw=$work/rw" "create $work/sandbox-probe.txt: EACCES" \
  -- write_files.o -args w "$work"
probe fsize-1M "$u,rw=$work/rw,fsize=1M" \
  "create $work/rw/sandbox-probe.txt: OK" "write: EFBIG after 1024 KiB" \
  -- write_files.o -args w "$work/rw" 2048

probe net-no-sandbox "" "connect 127.0.0.1:$port: OK" "bind 127.0.0.1:0: OK" \
  -- net.o -args n "$port"
probe net-untrusted "$u" "connect 127.0.0.1:$port: EACCES" "bind 127.0.0.1:0: EACCES" \
  -- net.o -args n "$port"
probe net-untrusted-net "$u,net" "connect 127.0.0.1:$port: OK" "bind 127.0.0.1:0: OK" \
  -- net.o -args n "$port"
probe net-untrusted-no-fs "$u,no-fs" "connect 127.0.0.1:$port: EACCES" \
  -- net.o -args n "$port"

probe fork-no-sandbox "" "fork: 100 of 100 succeeded" -- fork.o
probe fork-untrusted "$u" "fork: 0 of 100 succeeded" "fork: EPERM" -- fork.o
probe fork-untrusted-fork "$u,fork" "fork: 100 of 100 succeeded" -- fork.o
probe exec-untrusted "$u" "fork: EPERM" "execve /bin/sh: EPERM" "posix_spawn /bin/sh: EPERM" \
  -- exec.o
probe exec-untrusted-fork "$u,fork" "fork: OK" "execve /bin/sh: EPERM" -- exec.o
probe exec-untrusted-fork-exec "$u,fork,exec,ro=/usr/bin" \
  "fork: OK" "execve /bin/sh: OK (exit 7)" "posix_spawn /bin/sh: OK (exit 7)" -- exec.o
probe ptrace-untrusted "$u" "ptrace attach parent: EPERM" -- ptrace.o
# minimal-root: outside paths do not exist at all (their metadata is out of
# reach too); what a program needs is there.
probe read-minimal-root "$u,minimal-root,ro=$work/ro" \
  "open /etc/passwd: ENOENT" "open $home: $home_refused" "open $work/outside.txt: ENOENT" \
  "open /dev/urandom: OK" "open $work/ro/readable.txt: OK" \
  -- read_files.o -args r /etc/passwd "$home" "$work/outside.txt" /dev/urandom "$work/ro/readable.txt"
probe exec-minimal-root-fork-exec "$u,minimal-root,fork,exec,ro=/usr/bin" \
  "fork: OK" "execve /bin/sh: OK (exit 7)" -- exec.o

# ---------------------------------------------------------------- limits
probe mem-no-sandbox "" "malloc 2048 MiB: OK" "malloc 1 MiB: OK" -- mem.o
probe mem-1G "$u,mem=1G" "malloc 2048 MiB: NULL" "malloc 1 MiB: OK" -- mem.o
probe mem-1G-no-limits "$u,mem=1G,no-limits" "malloc 2048 MiB: OK" -- mem.o
if want files-32; then
  run p "$u,files=32" fds.o
  n="$(sed -n 's#^open /dev/null: EMFILE after \([0-9]*\)$#\1#p' p.out)"
  why=""
  [ "$(cat p.status)" = 0 ] || why+=" executor status $(cat p.status)"
  if [ -z "$n" ]; then
    why+=" no 'open /dev/null: EMFILE after N'"
  elif [ "$n" -ge 32 ] || [ "$n" -lt 1 ]; then
    why+=" opened $n files"
  fi
  verdict files-32 "$why" p
fi
# Nothing lifts the limits. Raising a hard limit needs CAP_SYS_RESOURCE: an
# executor that has it (root outside a container) must be stopped by the
# sandbox itself; without it this case passes whatever the sandbox does.
probe lift-limits-untrusted "$u" \
  "raise RLIMIT_AS: EPERM" "raise RLIMIT_CPU: EPERM" "raise RLIMIT_NOFILE: EPERM" -- lift.o
limit cpu-2 "$u,cpu=2" 152 \
  "orc-rt: sandbox: CPU time limit of 2 s exceeded; exiting with status 152" -- spin.o
limit wall-2 "$u,wall=2" 124 \
  "orc-rt: sandbox: wall-clock limit of 2 s exceeded; exiting with status 124" -- sleep.o
limit cpu-2-flag "--sandbox=$u,cpu=2" 152 \
  "orc-rt: sandbox: CPU time limit of 2 s exceeded; exiting with status 152" -- spin.o

# ------------------------------------------------ normal programs work
same hello "$u" 42 "hello, world" -- hello.o
same hello-flag "--sandbox=$u" 42 "hello, world" -- hello.o
same hello-require "$u,require" 42 "hello, world" -- hello.o
same file-io-rw "$u,rw=$work/rw" 0 "read back: written in the sandbox" \
  -- write_files.o -args w "$work/rw"
same pthreads "$u" 20 "total=1000000 sum=20" -- pthreads.o
same cxx-eh "$u" 7 "caught: boom" -- eh.o
same cxx-eh-orc-runtime "$u" 7 "static destructor ran" -- -orc-runtime="$rt" eh.o
same cxx-runtime-orc-runtime "$u" 11 "dtor first" -- -orc-runtime="$rt" cxx_runtime.o
same cxx-thread-local-orc-runtime "$u" 5 "in main: 1" -- -orc-runtime="$rt" thread_local.o
same atexit-orc-runtime "$u" 3 "main returns 3" -- -orc-runtime="$rt" atexit.o
same memmgr-shared "$u" 42 "hello, world" -- -use-memmgr=shared hello.o
same memmgr-shared-orc-runtime "$u" 7 "caught: boom" -- -use-memmgr=shared -orc-runtime="$rt" eh.o
# orc-rt's own platform archive: its runtime runs inside the sandboxed
# executor (the .eh_frame repair reads /proc/self/maps and mprotects).
our_rt="$("$ours" --platform-archive)"
same cxx-eh-our-platform "$u" 7 "static destructor ran" -- -orc-runtime="$our_rt" eh.o
same atexit-our-platform "$u" 3 "atexit handler ran" -- -orc-runtime="$our_rt" atexit.o
same thread-local-our-platform "$u" 5 "in main: 1" -- -orc-runtime="$our_rt" thread_local.o
same memmgr-simple-remote "$u" 42 "hello, world" -- -use-memmgr=simple-remote hello.o
same hello-no-minimal-root "$u,no-minimal-root" 42 "hello, world" -- hello.o
same file-io-rw-no-minimal-root "$u,no-minimal-root,rw=$work/rw" 0 "read back: written in the sandbox" \
  -- write_files.o -args w "$work/rw"
same memmgr-shared-no-minimal-root "$u,no-minimal-root" 7 "caught: boom" \
  -- -use-memmgr=shared -orc-runtime="$rt" eh.o
# --perf-support writes its jitdump under $JITDUMPDIR: allowed with perf and
# rw= there (one dump from the run without sandbox, one from the run with).
JITDUMPDIR="$work/perf" same perf-support "$u,perf,rw=$work/perf" 42 "hello, world" \
  -- --perf-support hello.o
if want perf-support; then
  n="$(find perf -name 'jit-*.dump' | wc -l)"
  why=""
  [ "$n" = 2 ] || why=" $n jitdump files in \$JITDUMPDIR, expected 2"
  verdict perf-support-jitdump "$why"
fi

# clang-repl-22 --oop-executor: tests/interop/repl-input.txt under
# ORC_RT_SANDBOX=untrusted, same output as without (blank prompt lines,
# which interleave at varying places, dropped).
# repl TAG SPEC CLANG-REPL-ARGS... (SPEC "": no sandbox)
repl() {
  local tag="$1" spec="$2"
  shift 2
  local envset=(-u ORC_RT_SANDBOX)
  [ -z "$spec" ] || envset=(ORC_RT_SANDBOX="$spec")
  set +e
  ( (env "${envset[@]}" timeout 120 clang-repl-22 --oop-executor="$ours" --orc-runtime="$rt" "$@" \
       <"$repo/tests/interop/repl-input.txt"
     echo $? >"$tag.rc") 2>&1 1>&3 | timeout 150 cat >"$tag.err"
  ) 3>&1 | timeout 150 cat | grep -v '^$' >"$tag.out"
  set -e
  echo "-" >"$tag.status"
}
# repl_case NAME CLANG-REPL-ARGS...
repl_case() {
  local name="$1" why=""
  shift
  want "$name" || return 0
  if ! command -v clang-repl-22 >/dev/null; then
    echo "SKIP: $name (clang-repl-22 not installed)"
    return 0
  fi
  repl base "" "$@"
  repl sbx "$u" "$@"
  grep -qxF "dtor global" base.out || why+=" without sandbox: the session did not run to the end"
  grep -qxF "dtor global" sbx.out || why+=" the session did not run to the end"
  cmp -s base.out sbx.out || why+=" stdout differs"
  cmp -s base.rc sbx.rc || why+=" exit $(cat sbx.rc) (without sandbox $(cat base.rc))"
  verdict "$name" "$why" sbx base
}
repl_case clang-repl
repl_case clang-repl-shared-memory --use-shared-memory

# ------------------------------------------------------ command line
if want cli-help; then
  why=""
  timeout 10 "$ours" --help >help.out 2>&1 </dev/null || true
  for w in --sandbox= ORC_RT_SANDBOX untrusted none require mem= fsize= cpu= wall= \
    files= procs= ro= rw= exec fork net perf no-fs no-syscalls no-limits \
    filedescs= listen= test-jitloadergdb; do
    grep -qF -- "$w" help.out || why+=" no '$w'"
  done
  verdict cli-help "$why" help
fi
if want cli-version; then
  why=""
  rc=0
  timeout 10 "$ours" --version >v.out 2>v.err </dev/null || rc=$?
  [ "$rc" = 0 ] || why+=" exit $rc"
  grep -qF -- "$version" v.out || why+=" no version $version on stdout"
  verdict cli-version "$why" v
fi
# --sandbox-check=untrusted: the kernel's Landlock ABI (asked directly
# here) and, from ABI 4 on, every mechanism enforced; `require` then runs.
if want cli-sandbox-check; then
  why=""
  kabi="$(python3 -c 'import ctypes; print(max(0, ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1)))' 2>/dev/null || echo 0)"
  rc=0
  timeout 10 "$ours" --sandbox-check=untrusted >check.out 2>check.err </dev/null || rc=$?
  [ "$rc" = 0 ] || why+=" exit $rc"
  grep -q "^sandbox: Landlock ABI $kabi\b" check.out || why+=" no 'sandbox: Landlock ABI $kabi' (the kernel's)"
  if [ "$kabi" -ge 4 ]; then
    for m in limits filesystem network syscalls; do
      grep -q "; enforced: \(.*, \)\?$m\b" check.out || why+=" $m not enforced"
    done
    grep -q "NOT enforced" check.out && why+=" something NOT enforced"
    rc=0
    timeout 10 "$ours" --sandbox-check=untrusted,require >>check.out 2>>check.err </dev/null || rc=$?
    [ "$rc" = 0 ] || why+=" untrusted,require: exit $rc"
  fi
  verdict cli-sandbox-check "$why" check
fi
# A bad spec is refused before anything runs, in both forms.
if want cli-bad-spec; then
  why=""
  rc=0
  timeout 10 "$ours" --sandbox=mem=lots filedescs=0,1 </dev/null >bad.out 2>bad.err || rc=$?
  [ "$rc" != 0 ] || why+=" --sandbox=mem=lots: exit 0"
  grep -qF 'invalid setting "mem=lots"' bad.err || why+=" --sandbox=mem=lots: no 'invalid setting' on stderr"
  run p bogus hello.o
  [ "$(cat p.status)" != 0 ] || why+=" ORC_RT_SANDBOX=bogus: executor status 0"
  grep -qF 'invalid setting "bogus"' p.err || why+=" ORC_RT_SANDBOX=bogus: no 'invalid setting' on stderr"
  grep -qxF "hello, world" p.out && why+=" ORC_RT_SANDBOX=bogus: the program ran"
  verdict cli-bad-spec "$why" bad p
fi

# test-jitloadergdb under ORC_RT_SANDBOX: a zero, then a non-zero
# __jit_debug_descriptor.last_entry, and the program's exit code.
if want test-jitloadergdb; then
  printf '#!/bin/sh\nexec %s test-jitloadergdb "$@"\n' "$ours" >tgdb.sh
  chmod +x tgdb.sh
  set +e
  ( (ORC_RT_SANDBOX="$u" timeout 60 llvm-jitlink-22 -oop-executor="$work/tgdb.sh" \
       --debugger-support hello-g.o </dev/null
     echo $? >g.rc) 2>&1 1>&3 | timeout 90 cat >g.err
  ) 3>&1 | timeout 90 cat >g.out
  set -e
  why=""
  [ "$(cat g.rc)" = 42 ] || why+=" exit $(cat g.rc)"
  grep -qxF "hello, world" g.out || why+=" no 'hello, world'"
  grep -q "last_entry = 0x0000000000000000" g.err || why+=" no zero last_entry"
  grep -q "last_entry = 0x[0-9a-f]*[1-9a-f][0-9a-f]*$" g.err || why+=" no non-zero last_entry"
  verdict test-jitloadergdb "$why" g
fi

# listen=: the executor accepts llvm-jitlink's connection, then confines
# itself (after accept: a sandboxed bind would fail). The 22.1.8 controller
# hangs after a TCP session, so it is bounded by timeout; what counts is the
# executor's stdout and exit status, compared with a run without sandbox.
wait_listening() {
  local hex
  hex=$(printf '%04X' "$1")
  for _ in $(seq 100); do
    grep -Eq "^ *[0-9]+: (0100007F|00000000):$hex 00000000:0000 0A" /proc/net/tcp 2>/dev/null &&
      return 0
    sleep 0.05
  done
  return 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
listen_one() {
  local tag="$1" lport pid waited=0
  shift
  lport=$(free_port)
  timeout 60 "$ours" "$@" listen=127.0.0.1:"$lport" >"$tag.out" 2>"$tag.err" </dev/null &
  pid=$!
  wait_listening "$lport" || echo "executor did not listen on $lport" >>"$tag.err"
  timeout 10 llvm-jitlink-22 -oop-executor-connect=127.0.0.1:"$lport" hello.o \
    >"$tag.jl.out" 2>"$tag.jl.err" </dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ $waited -lt 50 ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  kill "$pid" 2>/dev/null || true
  local rc=0
  wait "$pid" || rc=$?
  echo "$rc" >"$tag.status"
  echo "-" >"$tag.rc"
}
if want listen; then
  listen_one base
  listen_one sbx --sandbox="$u"
  why=""
  grep -qxF "hello, world" sbx.out || why+=" no 'hello, world' from the executor"
  cmp -s base.out sbx.out || why+=" stdout differs"
  cmp -s base.status sbx.status ||
    why+=" executor status $(cat sbx.status) (without sandbox $(cat base.status))"
  verdict listen-sandbox-flag "$why" sbx base
fi

echo "sandbox: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
  echo "failed: ${failed_names[*]}"
  exit 1
fi
