#!/usr/bin/env bash
# check-boundaries.sh COMPILER TARGET_INFO_DIR BINARY_DIR PROBE_DIR: proves the module
# boundaries (docs/DESIGN.md §3.1).
# 1. The compiler refuses storage/records.hpp (internal to vmd_storage) on the include path of
#    vmd_service's sources, and accepts storage/store.hpp (public) on the same path.
# 2. For every target described in TARGET_INFO_DIR, no include directory of its sources and no
#    folder holding one of its sources (the compiler searches it first for "..." includes)
#    leads to a header that another module keeps internal, and none of its sources includes
#    through a parent folder ("../").
set -euo pipefail
compiler=$1 info_dir=$2 binary_dir=$3 probe_dir=$4
status=0
fail() {
  echo "module_boundaries: FAIL: $*" >&2
  status=1
}

# The lines "KEY value" of a target's description.
field() { sed -n "s/^$2 \(..*\)\$/\1/p" "$info_dir/$1.txt"; }

scratch=$(mktemp -d /tmp/vmd-module-boundaries.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# The compiler's own directories (CMake leaves them off its command lines too).
mapfile -t service_includes < <(field vmd_service include | grep -vxF -f "$info_dir/implicit-include-dirs")
[ "${#service_includes[@]}" -gt 0 ] || fail "no include directory recorded for vmd_service"
flags=("${service_includes[@]/#/-I}")
compile() { "$compiler" -std=c++20 -fsyntax-only "${flags[@]}" "$probe_dir/$1" 2>"$scratch/$1.err"; }
if ! compile public_header_probe.cpp; then
  cat "$scratch/public_header_probe.cpp.err" >&2
  fail "the control (storage/store.hpp, public) does not compile with vmd_service's include path"
fi
if compile internal_header_probe.cpp; then
  fail "storage/records.hpp, internal to vmd_storage, compiles with vmd_service's include path"
elif ! grep -qE "records\.hpp.*(No such file|not found)" "$scratch/internal_header_probe.cpp.err"; then
  cat "$scratch/internal_header_probe.cpp.err" >&2
  fail "the probe of storage/records.hpp failed, but not because the header was not found"
else
  echo "module_boundaries: vmd_service cannot include storage/records.hpp:" \
    "$(grep -m1 -E 'records\.hpp' "$scratch/internal_header_probe.cpp.err")"
fi

# Every module's internal headers, as staged by cmake/ModuleHeaders.cmake:
# <stage>/<owner>/internal/<header>, listed once as "owner header".
mapfile -t internals < <(
  find "$binary_dir" -mindepth 4 -maxdepth 7 \( -type f -o -type l \) -path '*/include/*/internal/*' |
    sed -nE 's|^.*/include/([^/]+)/internal/(.+)$|\1 \2|p' | sort)
[ "${#internals[@]}" -gt 0 ] || fail "no staged internal header under $binary_dir"
mapfile -t infos < <(find "$info_dir" -name '*.txt' | sort)
[ "${#infos[@]}" -gt 0 ] || fail "no target described in $info_dir"
checks=0
for info in "${infos[@]}"; do
  target=$(basename "$info" .txt)
  source_dir=$(field "$target" source_dir)
  mapfile -t search < <(field "$target" include)
  while read -r source; do
    [[ $source == /* ]] || source=$source_dir/$source
    search+=("${source%/*}")
  done < <(field "$target" source)
  mapfile -t search < <(printf '%s\n' "${search[@]}" | sort -u)
  # A "../" include would walk around the include path from a file's own folder: none in the
  # target's sources, nor in the headers beside them.
  mapfile -t own_files < <(
    field "$target" source | while read -r source; do
      [[ $source == /* ]] || source=$source_dir/$source
      printf '%s\n' "$source" "${source%/*}"/*.hpp
    done | grep -E '\.(cpp|hpp)$' | sort -u)
  for file in "${own_files[@]}"; do
    [ -e "$file" ] || continue
    if grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*\.\./' "$file" >"$scratch/parent"; then
      fail "$target: an include through a parent folder: $(cat "$scratch/parent")"
    fi
  done
  for entry in "${internals[@]}"; do
    owner=${entry%% *} header=${entry#* }
    [ "$owner" != "$target" ] || continue
    for dir in "${search[@]}"; do
      checks=$((checks + 1))
      if [ -e "$dir/$header" ]; then
        fail "$target's sources can include \"$header\", internal to $owner, through $dir"
      fi
    done
  done
done
echo "module_boundaries: ${#infos[@]} targets x ${#internals[@]} internal headers of the others:" \
  "$checks lookups, $([ "$status" = 0 ] && echo passed || echo FAILED)"
exit "$status"
