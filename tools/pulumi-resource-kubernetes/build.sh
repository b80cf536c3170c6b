#!/usr/bin/env bash
# Builds the Pulumi Kubernetes provider plugin .tools/bin/pulumi-resource-kubernetes at
# PULUMI_KUBERNETES_VERSION (tools/versions.env) from the provider module with the wrapper's
# own main.go. The provider's schema.json and terraform-mapping.json are copied from the
# module cache next to main.go (git-ignored) and embedded.
set -euo pipefail
TOOL=pulumi-resource-kubernetes
source "$(dirname "$0")/../common.sh"
HERE="$REPO/tools/pulumi-resource-kubernetes"
MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4

require_pin "$HERE" "$MODULE" "$PULUMI_KUBERNETES_PROVIDER_MODULE"
require_pin "$HERE" github.com/pulumi/pulumi-kubernetes/sdk/v4 "$PULUMI_KUBERNETES_VERSION"

out="$BIN_DIR/pulumi-resource-kubernetes"
stamp="$(inputs_stamp "$HERE" "pulumi-resource-kubernetes $PULUMI_KUBERNETES_VERSION ($PULUMI_KUBERNETES_PROVIDER_MODULE)")"
if up_to_date "$out" "$stamp"; then
  say "pulumi-resource-kubernetes $PULUMI_KUBERNETES_VERSION already built: $out"
  exit 0
fi

mkdir -p "$BIN_DIR"
start=$SECONDS

say "copying the provider schema from $MODULE@$PULUMI_KUBERNETES_PROVIDER_MODULE"
mod_dir="$(cd "$HERE" && go mod download "$MODULE" && go list -m -f '{{.Dir}}' "$MODULE")" \
  || die "could not download $MODULE (see above)"
for f in schema.json terraform-mapping.json; do
  src="$mod_dir/cmd/pulumi-resource-kubernetes/$f"
  [ -f "$src" ] || die "$src is missing: the provider module no longer ships $f"
  install -m 0644 "$src" "$HERE/$f"
done

say "building pulumi-resource-kubernetes $PULUMI_KUBERNETES_VERSION (cold: compiles the Kubernetes client libraries, several minutes)"
(
  cd "$HERE"
  go build -trimpath -o "$out.tmp" \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${PULUMI_KUBERNETES_VERSION#v}" \
    .
) || die "go build of the Kubernetes provider wrapper failed (see above)"
mv -f "$out.tmp" "$out"

got="$("$out" --version)" || die "the new $out does not run"
[ "$got" = "${PULUMI_KUBERNETES_VERSION#v}" ] || die "$out reports version '$got', expected ${PULUMI_KUBERNETES_VERSION#v}"
write_stamp "$out" "$stamp"
say "built $out ($got) in $((SECONDS - start))s"
