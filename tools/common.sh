# Shared helpers for tools/*/build.sh (sourced, not run). Each build script builds one Go
# tool from its wrapper module into .tools/bin and skips the work when the binary there was
# already built from the same pinned inputs.
#
# After sourcing: REPO is the repo root, BIN_DIR is .tools/bin, and the pins from
# tools/versions.env are set. Go's module and build caches stay in their default places.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$REPO/.tools/bin"
# shellcheck source=tools/versions.env
source "$REPO/tools/versions.env"

# Use the installed Go; never try to download another toolchain.
export GOTOOLCHAIN=local

say() { echo "[$TOOL] $*"; }
die() { echo "[$TOOL] ERROR: $*" >&2; exit 1; }

command -v go >/dev/null || die "Go is not installed (needed to build $TOOL)"

# require_pin WRAPPER_DIR MODULE VERSION: stop unless the wrapper's go.mod requires
# MODULE at exactly VERSION (keeps go.mod and tools/versions.env from drifting apart).
require_pin() {
  local dir="$1" module="$2" want="$3" have
  have="$(cd "$dir" && go mod edit -json | python3 -c '
import json, sys
mod = sys.argv[1]
for r in json.load(sys.stdin).get("Require") or []:
    if r["Path"] == mod:
        print(r["Version"])
' "$module")"
  [ "$have" = "$want" ] || die "$dir/go.mod requires $module ${have:-(nothing)}, but tools/versions.env pins $want.
  Update both together, e.g.: (cd ${dir#"$REPO"/} && go get $module@$want && go mod tidy)"
}

# inputs_stamp WRAPPER_DIR LABEL: one line naming the pinned version and a hash of the
# wrapper's committed inputs, so editing go.mod, go.sum or a .go file forces a rebuild.
inputs_stamp() {
  local dir="$1" label="$2" hash
  hash="$(cd "$dir" && cat go.mod go.sum $(ls ./*.go 2>/dev/null) | sha256sum | cut -c1-16)"
  echo "$label inputs=$hash go=$(go env GOVERSION)"
}

# up_to_date BINARY STAMP: true when BINARY exists and its stamp file holds STAMP.
up_to_date() {
  local binary="$1" stamp="$2" file
  file="$BIN_DIR/.$(basename "$binary").version"
  [ -x "$binary" ] && [ -f "$file" ] && [ "$(cat "$file")" = "$stamp" ]
}

# write_stamp BINARY STAMP: record what BINARY was built from.
write_stamp() {
  echo "$2" > "$BIN_DIR/.$(basename "$1").version"
}
