# cnf.sh - the one writer of openssl.cnf for tests, demo and bench; sourced
# by tests/tls/lib.sh, tests/integration/*.sh, demo.sh, bench/run and
# bench/smoke.sh.  The file it writes is tests/cnf/template.cnf filled in.
#
#   . tests/cnf/cnf.sh
#   dance_cnf FILE MODULE [SETTING...]
#
# shellcheck shell=bash

DANCE_CNF_TEMPLATE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/template.cnf

# dance_cnf FILE MODULE [SETTING...] - write FILE from template.cnf: the
# default provider, and the dance provider loaded from MODULE (an absolute
# path) with SETTINGS in its section, one "key = value" line each, in the
# order given.  The template's comment lines are left out.  A SETTING is "key=value" or "key = value" (split at the
# first '='; spaces around key and value are dropped).  MODULE "-": no
# dance provider at all (SETTINGS must then be empty).  Returns 1, writing
# nothing, when a SETTING has no '=' or an empty key.
dance_cnf() {
    local file=$1 module=$2 kv key val line settings="" skip=0
    shift 2
    if [ "$module" = - ] && [ $# -gt 0 ]; then
        echo "dance_cnf: settings without a module" >&2
        return 1
    fi
    for kv in "$@"; do
        key=${kv%%=*}
        val=${kv#*=}
        key=${key%"${key##*[![:space:]]}"}
        key=${key#"${key%%[![:space:]]*}"}
        val=${val%"${val##*[![:space:]]}"}
        val=${val#"${val%%[![:space:]]*}"}
        if [ "$key" = "$kv" ] || [ -z "$key" ]; then
            echo "dance_cnf: '$kv' is not key=value" >&2
            return 1
        fi
        settings+="$key = $val"$'\n'
    done
    {
        while IFS= read -r line; do
            [ "${line#\#}" = "$line" ] || continue # the template's comments
            if [ "$module" = - ]; then
                [ "$line" = "[dance_sect]" ] && skip=1
                [ "$line" = "dance = dance_sect" ] && continue
                [ $skip = 1 ] && continue
            fi
            case "$line" in
            @SETTINGS@) printf '%s' "$settings" ;;
            *) printf '%s\n' "${line//@MODULE@/"$module"}" ;;
            esac
        done <"$DANCE_CNF_TEMPLATE"
    } >"$file"
}
