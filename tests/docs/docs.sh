#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# docs.sh - the documentation against the code (ctest docs.check).
#
#   docs.sh SOURCE_DIR
#
# Checks, and reports every failure:
#  1. in the Markdown files of the repository, every relative link, every `path`
#     in backquotes under a folder of the repository (docs/..., tests/...,
#     bench/..., ...) and every `name.md` in backquotes points at a file or
#     directory that exists inside the repository (no link out of it, no
#     file that was moved);
#  2. every openssl.cnf key the provider reads (dance_config_table in
#     provider/dance_config.c) has a row in the key tables of README.md and
#     openssl.cnf.d/README.md, and every row of those tables is such a key.
# shellcheck disable=SC2016 # backquotes in single-quoted regexes: Markdown code spans
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 SOURCE_DIR" >&2; exit 2; }
SRC=$(cd "$1" && pwd)
cd "$SRC"
fails=0

# fail MSG - report one failed check.
fail() {
    echo "not ok - $*"
    fails=$((fails + 1))
}

# --- 1. links -----------------------------------------------------------------
# The tracked files; outside a git checkout (a source tarball), every
# Markdown file but those of build directories.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t mds < <(git ls-files '*.md')
else
    mapfile -t mds < <(find . -name '*.md' -not -path './build*' | sed 's|^\./||')
fi
[ "${#mds[@]}" -gt 0 ] || fail "git ls-files finds no Markdown file"
for md in "${mds[@]}"; do
    dir=$(dirname "$md")
    # [text](target): relative targets only (no scheme, no pure anchor).
    while IFS= read -r target; do
        target=${target%%#*}
        [ -n "$target" ] || continue
        case "$target" in
        *://* | mailto:*) continue ;;
        esac
        path=$(realpath -m "$dir/$target")
        case "$path" in
        "$SRC" | "$SRC"/*) ;;
        *)
            fail "$md: link ($target) leads out of the repository"
            continue
            ;;
        esac
        [ -e "$path" ] || fail "$md: link ($target) names no file"
    done < <(grep -o '\](\([^)]*\))' "$md" | sed 's/^](//; s/)$//')
    # `dir/file.ext` in backquotes, for the repository's own top folders,
    # relative to the repository (how the docs name files).
    while IFS= read -r target; do
        case "$target" in
        *'*'* | *'{'* | *'<'* | *'$'*) continue ;; # patterns, placeholders
        esac
        [ -e "$SRC/$target" ] || fail "$md: \`$target\` names no file"
    done < <(grep -oE '`(docs|tests|bench|common|fw|provider|ext|resolver|tools|scripts|openssl\.cnf\.d)/[A-Za-z0-9_./{}*<>$-]*[A-Za-z0-9_]`' "$md" |
        tr -d '`' | sort -u)
    # `something.md` in backquotes: a document named as a path, relative
    # to this file or to the repository; it must be inside and exist.
    while IFS= read -r target; do
        path=$(realpath -m "$dir/$target")
        [ -e "$path" ] || path=$(realpath -m "$SRC/$target")
        case "$path" in
        "$SRC"/*) [ -e "$path" ] || fail "$md: \`$target\` names no file" ;;
        *) fail "$md: \`$target\` is outside the repository" ;;
        esac
    done < <(grep -oE '`[A-Za-z0-9_./-]+\.md`' "$md" | tr -d '`' | sort -u)
done

# --- 2. configuration keys ------------------------------------------------------
mapfile -t keys < <(grep -oE '^ *\{"[a-z_0-9]+", DANCE_KEY_' \
    provider/dance_config.c | grep -oE '"[a-z_0-9]+"' | tr -d '"' | sort -u)
[ "${#keys[@]}" -ge 10 ] ||
    fail "cannot read the keys from provider/dance_config.c (found ${#keys[@]})"
for doc in README.md openssl.cnf.d/README.md; do
    # The table whose header starts "| key |", up to its first non-row.
    mapfile -t rows < <(awk '/^\| key \|/ { t = 1; next } t && !/^\|/ { t = 0 }
        t' "$doc" | grep -oE '^\| `[a-z_0-9]+` \|' |
        sed -E 's/^\| `([a-z_0-9]+)` \|/\1/' | sort -u)
    [ "${#rows[@]}" -gt 0 ] || fail "$doc: no key table (a '| key |' header)"
    for k in "${keys[@]}"; do
        printf '%s\n' "${rows[@]}" | grep -qx "$k" ||
            fail "$doc: the key table has no row for '$k'"
    done
    for r in "${rows[@]}"; do
        printf '%s\n' "${keys[@]}" | grep -qx "$r" ||
            fail "$doc: the key table lists '$r', which the provider does not read"
    done
done

if [ "$fails" -gt 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "ok - links in ${#mds[@]} Markdown files, ${#keys[@]} keys in both key tables"
