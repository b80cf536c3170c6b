#!/usr/bin/env bash
# Builds the Python language host .tools/bin/pulumi-language-python (module
# github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, pinned in
# tools/versions.env) and puts its exec shim, pulumi-language-python-exec, beside it.
# The shim is a small Python script shipped in the pulumi sdk/v3 module; it is copied from
# the Go module cache at the CLI's release (PULUMI_VERSION), the same release as the
# pulumi Python SDK pinned in pyproject.toml.
set -euo pipefail
TOOL=pulumi-language-python
source "$(dirname "$0")/../common.sh"
HERE="$REPO/tools/pulumi-language-python"

require_pin "$HERE" github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 "$PULUMI_LANGUAGE_PYTHON_MODULE"
require_pin "$HERE" github.com/pulumi/pulumi/pkg/v3 "$PULUMI_LANGUAGE_PYTHON_RELEASE"
require_pin "$HERE" github.com/pulumi/pulumi/sdk/v3 "$PULUMI_LANGUAGE_PYTHON_RELEASE"
require_pin "$REPO/tools/pulumi" github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION"

out="$BIN_DIR/pulumi-language-python"
shim="$BIN_DIR/pulumi-language-python-exec"
stamp="$(inputs_stamp "$HERE" "pulumi-language-python $PULUMI_LANGUAGE_PYTHON_RELEASE ($PULUMI_LANGUAGE_PYTHON_MODULE) exec-shim sdk $PULUMI_VERSION")"
if up_to_date "$out" "$stamp" && [ -x "$shim" ]; then
  say "pulumi-language-python $PULUMI_LANGUAGE_PYTHON_RELEASE already built: $out"
  exit 0
fi

mkdir -p "$BIN_DIR"
start=$SECONDS

# The exec shim, from sdk/v3 as the Pulumi CLI's wrapper module resolves it (its go.sum
# verifies the download).
say "copying pulumi-language-python-exec from github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"
sdk_dir="$(cd "$REPO/tools/pulumi" && go mod download github.com/pulumi/pulumi/sdk/v3 \
  && go list -m -f '{{.Version}} {{.Dir}}' github.com/pulumi/pulumi/sdk/v3)" \
  || die "could not download github.com/pulumi/pulumi/sdk/v3 for the exec shim"
[ "${sdk_dir%% *}" = "$PULUMI_VERSION" ] \
  || die "tools/pulumi resolves sdk/v3 ${sdk_dir%% *}, expected $PULUMI_VERSION"
sdk_dir="${sdk_dir#* }"
[ -f "$sdk_dir/python/cmd/pulumi-language-python-exec" ] \
  || die "no python/cmd/pulumi-language-python-exec in $sdk_dir"
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$shim"

say "building pulumi-language-python $PULUMI_LANGUAGE_PYTHON_RELEASE ($PULUMI_LANGUAGE_PYTHON_MODULE)"
(
  cd "$HERE"
  go build -trimpath -o "$out.tmp" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_LANGUAGE_PYTHON_RELEASE" \
    github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
) || die "go build of pulumi-language-python@$PULUMI_LANGUAGE_PYTHON_MODULE failed (see above)"
mv -f "$out.tmp" "$out"

write_stamp "$out" "$stamp"
say "built $out and $shim in $((SECONDS - start))s"
