#!/usr/bin/env bash
# layers.sh - fail when an #include points up the layer order
# (CMakeLists.txt): common < resolver < ext, fw < provider < tools.
# A header that lives in no layer folder (a system or generated header)
# is not checked.
#   tests/layers.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

# The folders each layer may include from, itself included.
declare -A may=(
    [common]="common"
    [resolver]="common resolver"
    [ext]="common resolver ext"
    [fw]="common resolver fw"
    [provider]="common resolver ext fw provider"
    [tools]="common resolver ext fw provider tools"
)

# home - the layer folder that holds header $1, or nothing.
home() {
    local d
    for d in "${!may[@]}"; do
        if [ -f "$d/$1" ]; then
            echo "$d"
            return
        fi
    done
}

bad=0
checked=0
for layer in "${!may[@]}"; do
    for f in "$layer"/*.[ch]; do
        [ -e "$f" ] || continue
        while IFS= read -r hdr; do
            checked=$((checked + 1))
            h=$(home "$hdr")
            [ -n "$h" ] || continue
            case " ${may[$layer]} " in
            *" $h "*) ;;
            *)
                echo "layers: $f includes $h/$hdr: $layer may include" \
                    "only from ${may[$layer]}"
                bad=$((bad + 1))
                ;;
            esac
        done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]+"([^"]+)".*/\1/p' "$f")
    done
done
echo "layers: $checked includes checked, $bad pointing up"
[ "$bad" -eq 0 ]
