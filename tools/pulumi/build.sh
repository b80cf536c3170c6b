#!/usr/bin/env bash
# Builds the Pulumi CLI (module github.com/pulumi/pulumi/pkg/v3, package cmd/pulumi) at
# PULUMI_VERSION from tools/versions.env into .tools/bin/pulumi.
set -euo pipefail
TOOL=pulumi
source "$(dirname "$0")/../common.sh"
HERE="$REPO/tools/pulumi"

require_pin "$HERE" github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION"

out="$BIN_DIR/pulumi"
stamp="$(inputs_stamp "$HERE" "pulumi $PULUMI_VERSION")"
if up_to_date "$out" "$stamp"; then
  say "pulumi $PULUMI_VERSION already built: $out"
  exit 0
fi

say "building pulumi $PULUMI_VERSION (cold: downloads ~200 modules and compiles for several minutes)"
mkdir -p "$BIN_DIR"
start=$SECONDS
(
  cd "$HERE"
  go build -trimpath -o "$out.tmp" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
) || die "go build of github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION failed (see above)"
mv -f "$out.tmp" "$out"

got="$("$out" version)" || die "the new $out does not run"
[ "$got" = "$PULUMI_VERSION" ] || die "$out reports version '$got', expected $PULUMI_VERSION"
write_stamp "$out" "$stamp"
say "built $out ($got) in $((SECONDS - start))s"
