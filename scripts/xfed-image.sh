#!/usr/bin/env bash
# Builds xfed's own container image (docker/xfed/Dockerfile): Node 24, Prosody 0.12 with
# lua-unbound, and xfed installed from its packed tarball. Node and xfed's production
# node_modules come from this machine, so the build needs Debian's package mirror only (no npm
# registry or nodejs.org inside the build). Run it on Linux with Node 24 on PATH and a Docker engine.
#
#   scripts/xfed-image.sh [--base-image IMAGE] [--tag TAG] [--tarball FILE] [--node FILE] [--force] [--no-cache] [--smoke]
#
#   --base-image  Debian 12 base, as xfed chooses one for its Prosody image: $XFED_BASE_IMAGE,
#                 else debian:bookworm-slim when it is here, else local/debian:bookworm (made with
#                 debootstrap where no registry answers, README) when that is, else
#                 debian:bookworm-slim from the registry
#   --tag         image name (default xfed:<version from package.json>)
#   --tarball     an xfed-*.tgz already packed (default: npm pack here; the prepare script builds dist/)
#   --node        the Node 24 binary to put in the image (default: the node on PATH)
#   --force       build even when TAG already holds the same content
#   --no-cache    build every layer afresh (Debian's current packages); implies --force
#   --smoke       then run scenarios/smoke.yaml inside the image and check its results
#
# TAG is labelled with a hash of everything that goes into it (Dockerfile, base image, tarball, Node
# binary): when TAG already carries that hash, nothing is installed or built. Prints the build time
# and the image size; the staging directory is removed whatever happens.
set -euo pipefail

die() {
  echo "xfed-image: $*" >&2
  exit 2
}

base_image=${XFED_BASE_IMAGE:-}
tag=
tarball=
node_bin=
force=
build_flags=()
smoke=
while [ $# -gt 0 ]; do
  case $1 in
    --base-image | --tag | --tarball | --node)
      [ $# -ge 2 ] || die "$1 needs a value"
      case $1 in
        --base-image) base_image=$2 ;;
        --tag) tag=$2 ;;
        --tarball) tarball=$(realpath -e "$2" 2>/dev/null) || die "--tarball: no such file: $2" ;;
        --node) node_bin=$(realpath -e "$2" 2>/dev/null) || die "--node: no such file: $2" ;;
      esac
      shift 2
      ;;
    --force) force=1 && shift ;;
    --no-cache) force=1 && build_flags+=(--no-cache) && shift ;;
    --smoke) smoke=1 && shift ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' && exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

# Paths given are the caller's; from here on, the repository's.
cd "$(dirname "$0")/.."
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"
if [ -z "$base_image" ]; then
  base_image=debian:bookworm-slim
  if ! docker image inspect "$base_image" >/dev/null 2>&1 && docker image inspect local/debian:bookworm >/dev/null 2>&1; then
    base_image=local/debian:bookworm
  fi
fi
node_bin=${node_bin:-$(node -p process.execPath)} || die "no node on PATH (Node 24 is needed, or pass --node)"
node_version=$("$node_bin" --version 2>/dev/null | head -1)
[[ $node_version == v24.* ]] || die "$node_bin is not Node 24 (it says '$node_version'); the image carries Node 24 (put it on PATH or pass --node)"
# The binary goes into a Linux image of the engine's architecture, as it is.
node_arch=$("$node_bin" -p "process.platform + '/' + process.arch")
engine_arch=$(docker version -f '{{.Server.Os}}/{{.Server.Arch}}')
[ "${node_arch/x64/amd64}" = "$engine_arch" ] || die "$node_bin is a $node_arch binary, the Docker engine builds $engine_arch images"

version=$("$node_bin" -p "require('./package.json').version")
tag=${tag:-xfed:$version}

# Not named xfed-*: that is how leftovers of xfed runs are counted.
stage=$(mktemp -d "${TMPDIR:-/tmp}/image-build-xfed.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# Bash leaves without its EXIT trap on a signal it does not catch.
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$stage/context/xfed"

if [ -z "$tarball" ]; then
  echo "xfed-image: npm pack"
  tarball="$stage/$(npm pack --silent --pack-destination "$stage" | tail -1)"
fi

# The base image by its ID where it is here, so a rebuilt base makes a new hash.
base_id=$(docker image inspect -f '{{.Id}}' "$base_image" 2>/dev/null || echo "$base_image")
content_hash=$(
  {
    sha256sum docker/xfed/Dockerfile "$tarball" "$node_bin" | cut -d' ' -f1
    echo "$base_id"
  } | sha256sum | cut -c1-16
)

size_line() {
  local bytes
  bytes=$(docker image inspect -f '{{.Size}}' "$tag")
  echo "xfed-image: $tag ($base_image), content $content_hash, $((bytes / 1000000)) MB ($bytes bytes)"
}

if [ -z "$force" ] && [ "$(docker image inspect -f '{{index .Config.Labels "org.xfed.content-hash"}}' "$tag" 2>/dev/null)" = "$content_hash" ]; then
  echo "xfed-image: $tag is up to date"
else
  started=$(date +%s)
  echo "xfed-image: installing $(basename "$tarball") with production dependencies"
  # Install scripts stay off: no production dependency needs one.
  npm install --prefix "$stage/context/xfed" --omit=dev --ignore-scripts --no-package-lock --no-audit --no-fund --loglevel=error "$tarball" >/dev/null
  # The manifest npm wrote names the tarball's path on this machine; the image needs node_modules only.
  rm -f "$stage/context/xfed/package.json"
  cp docker/xfed/Dockerfile "$stage/context/Dockerfile"
  cp "$node_bin" "$stage/context/node"
  echo "xfed-image: building $tag on $base_image (Node $node_version)"
  previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  docker build --tag "$tag" "${build_flags[@]}" \
    --build-arg "BASE_IMAGE=$base_image" \
    --build-arg "XFED_VERSION=$version" \
    --build-arg "CONTENT_HASH=$content_hash" \
    "$stage/context"
  echo "xfed-image: built in $(($(date +%s) - started)) s"
  # The image the tag named before, unless a container or another tag still uses it.
  if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]; then
    docker rmi "$previous" >/dev/null 2>&1 || true
  fi
fi
size_line

if [ -n "$smoke" ]; then
  # The suite and its results in a folder mounted at /suites, run as this user so the results are ours.
  suites="$stage/suites"
  mkdir -p "$suites"
  cp scenarios/smoke.yaml "$suites/"
  started=$(date +%s)
  code=0
  docker run --rm --user "$(id -u):$(id -g)" -v "$suites:/suites" "$tag" run /suites/smoke.yaml --out /suites/results --reporter plain || code=$?
  [ -s "$suites/results/results.json" ] || die "the smoke suite inside $tag wrote no results.json (exit $code)"
  # The verdict from the results the run left on this side of the mount, not only its exit code.
  "$node_bin" -e '
    const [file, tag, code, seconds] = process.argv.slice(1);
    const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
    const line = `smoke suite inside ${tag}: exit ${code}, ${r.status}, ${r.summary.met} of ${r.summary.checks} checks met (${r.runtime} runtime) in ${seconds} s`;
    const ok = code === "0" && r.status === "complete" && r.runtime === "process" && r.summary.checks > 0 && r.summary.unmet === 0;
    (ok ? console.log : console.error)(`xfed-image: ${line}`);
    process.exit(ok ? 0 : 1);
  ' "$suites/results/results.json" "$tag" "$code" "$(($(date +%s) - started))"
fi
