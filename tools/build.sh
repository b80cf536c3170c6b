#!/usr/bin/env bash
# Builds the Go tools govcloud drives (Pulumi CLI and plugins, Kubernetes control plane)
# into .tools/bin from their published Go modules. Each tool has a wrapper module under
# tools/<name>/ with a build.sh that skips the build when the pinned version is present.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools/bin
if ! command -v go >/dev/null; then
  echo "tools: Go is not installed; the Go-built tools are skipped (tests that need them skip)" >&2
  exit 0
fi
status=0
missing=0
for tool in pulumi pulumi-language-python pulumi-resource-kubernetes kube-apiserver kube-controller-manager; do
  [ -x ".tools/bin/$tool" ] || missing=1
done
if [ $missing = 1 ]; then
  echo "tools: building the Go tools into .tools/bin (a fresh machine: about 40 minutes on 2 cores;" \
       "afterwards Go's module and build caches make this seconds)"
fi
start=$SECONDS
for script in tools/*/build.sh; do
  [ -e "$script" ] || continue
  echo "== $(dirname "$script")"
  bash "$script" || { echo "tools: $(dirname "$script") failed" >&2; status=1; }
done
[ $status = 0 ] && echo "tools: ready in .tools/bin ($((SECONDS - start)) s)"
exit $status
