#!/usr/bin/env bash
# Prints the path of a Go tool Herald's checks run, building it first, at the version pinned in
# deploy/toolchain/<tool>-version, from the Go module proxy:
#   promtool   Prometheus's rule and metrics checker (make observability-check, the metrics contract test)
#   kustomize  renders deploy/kubernetes and its overlays (make kubernetes-check)
# Needs Go 1.26.7 or later. Modules, build cache and binaries stay under .herald/: nothing is written
# outside the repository, and `rm -rf .herald` undoes it.
set -euo pipefail
cd "$(dirname "$0")/../.."
tool=${1:?usage: go-tool.sh promtool|kustomize}
case "$tool" in
  # Service discovery (cloud SDKs, Kubernetes clients) is most of Prometheus's build and promtool's checks
  # need none of it: remove_all_sd leaves it out of the download and the build.
  promtool) package=github.com/prometheus/prometheus/cmd/promtool tags=remove_all_sd ;;
  kustomize) package=sigs.k8s.io/kustomize/kustomize/v5 tags= ;;
  *) echo "go-tool.sh: unknown tool '$tool'" >&2; exit 2 ;;
esac
version=$(cat "deploy/toolchain/$tool-version")
home=.herald/$tool-$version
if [ ! -x "$home/$tool" ]; then
  if ! command -v go > /dev/null; then
    echo "$tool $version is built with Go (1.26.7 or later), which is not installed: see https://go.dev/dl/" >&2
    exit 1
  fi
  echo "building $tool $version (from the Go module proxy) into $home" >&2
  GOPATH="$PWD/.herald/go" GOCACHE="$PWD/.herald/go/cache" GOFLAGS='-modcacherw -buildvcs=false' GOBIN="$PWD/$home" \
    go install -tags "$tags" -ldflags='-s -w' "$package@$version" >&2
fi
echo "$PWD/$home/$tool"
