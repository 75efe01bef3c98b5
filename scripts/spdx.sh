#!/usr/bin/env bash
# spdx.sh - put "SPDX-License-Identifier: Apache-2.0" near the top of every
# tracked source file that lacks it (C and headers, shell, Python, CMake,
# any #! script): first line, or the line after a #! line. Idempotent: run
# it again after merging new files. unit.docs fails on a file without it.
#   scripts/spdx.sh [SOURCE_DIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"

ID="SPDX-License-Identifier: Apache-2.0"
added=0
while IFS= read -r f; do
    [ -f "$f" ] || continue
    first=$(head -n 1 "$f")
    case "$f" in
    *.c | *.h | *.h.in) style="c" ;;
    */CMakeLists.txt | CMakeLists.txt | *.cmake | *.sh | *.py) style="hash" ;;
    *) case "$first" in '#!'*) style="hash" ;; *) continue ;; esac ;;
    esac
    head -n 5 "$f" | grep -qF "$ID" && continue
    tmp=$(mktemp "$f.XXXXXX")
    if [ "$style" = c ]; then
        { echo "/* $ID */"; cat "$f"; } >"$tmp"
    elif [[ "$first" == '#!'* ]]; then
        { echo "$first"; echo "# $ID"; tail -n +2 "$f"; } >"$tmp"
    else
        { echo "# $ID"; cat "$f"; } >"$tmp"
    fi
    chmod --reference="$f" "$tmp"
    mv "$tmp" "$f"
    added=$((added + 1))
done < <(git ls-files)
echo "spdx.sh: $added files given the identifier"
