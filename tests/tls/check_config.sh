#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# check_config.sh - `dance check-config` says what the provider says.
#
# For each configuration (good ones, and one for every way the provider
# refuses to activate), the provider itself is loaded from it (`openssl
# list -providers` with OPENSSL_CONF pointing at it and the build's module)
# and its verdict is compared with check-config's:
#   - the provider activates   <=> check-config exits 0;
#   - the provider refuses     <=> check-config exits 1 and prints the
#     provider's own reason ("provider says: dance provider not activated,
#     TLS disabled: <the same text>");
#   - each case also says which verdict it expects, so a case cannot pass
#     by both sides going wrong the same way.
# Then check-config's own duties: usage (exit 2), every bad key listed,
# the effective settings, and the DNS probe against the test world (a
# secure DNSKEY from the real nameservers, a warning from a closed port).
#
#   check_config.sh BUILD_DIR
set -uo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"
tls_world_start 1

# provider NAME - load $TMP/NAME.cnf in openssl; PV = active, refused or
# inactive (not loaded); PWHY = the provider's reasons, one per line.
provider() {
    local conf=$TMP/$1.cnf
    local -a envs
    rm -f "$TMP/$1.log"
    mapfile -t envs < <(tls_env "$conf" 0)
    env "${envs[@]}" openssl list -providers >"$TMP/p.out" 2>"$TMP/p.err"
    # The reason goes to stderr, or to log_file once activation has set it.
    PWHY=$(cat "$TMP/p.err" "$TMP/$1.log" 2>/dev/null |
        sed -n 's/.*dance provider not activated, TLS disabled: //p')
    if [ -n "$PWHY" ]; then
        PV=refused
    elif grep -q '^  dance' "$TMP/p.out"; then
        PV=active
    else
        PV=inactive
    fi
}

# sanitized WHAT FILE... - no sanitizer report in FILEs (an ASan build);
# prints the reports otherwise.
sanitized() {
    local what=$1 rep
    shift
    rep=$(tls_sanitizer_report "$@")
    [ -z "$rep" ] && return 0
    echo "#   $what: sanitizer report:"
    printf '%s\n' "$rep"
    return 1
}

# compare NAME WANT [check-config options] - the provider's verdict on
# $TMP/NAME.cnf is WANT (active, refused, inactive), and check-config agrees.
compare() {
    local name=$1 want=$2 rc line ok=1
    shift 2
    provider "$name"
    "$DANCE" check-config --offline "$@" "$TMP/$name.cnf" >"$TMP/cc.out" 2>&1
    rc=$?
    if [ "$PV" != "$want" ]; then
        tls_fail "$name: the provider is $want" "it is $PV"
        sed 's/^/#   provider: /' "$TMP/p.err"
        return
    fi
    case "$PV:$rc" in
    active:0 | inactive:0) ;;
    refused:1)
        while IFS= read -r line; do
            if ! grep -qF "provider says: dance provider not activated, TLS disabled: $line" "$TMP/cc.out"; then
                ok=0
                echo "#   the provider says: $line"
            fi
        done <<<"$PWHY"
        ;;
    *) ok=0 ;;
    esac
    sanitized "$name" "$TMP/p.err" "$TMP/cc.out" || ok=0
    if [ "$ok" = 1 ]; then
        tls_pass "$name: provider $PV, check-config exit $rc${PWHY:+ (${PWHY:0:90})}"
    else
        tls_fail "$name: provider $PV" "check-config exit $rc"
        sed 's/^/#   check-config: /' "$TMP/cc.out" | grep -v '^#   check-config:     '
    fi
}

# add NAME LINE... - append lines to the dance section of $TMP/NAME.cnf
# (it is the file's last section).
add() {
    local name=$1
    shift
    printf '%s\n' "$@" >>"$TMP/$name.cnf"
}

# second NAME [LINE...] - a second provider section, dance2, loading the
# same module, with LINEs (after tls_conf NAME).
second() {
    local name=$1
    shift
    sed -i 's/^dance = dance_sect$/dance = dance_sect\ndance2 = dance2_sect/' \
        "$TMP/$name.cnf"
    printf '%s\n' "" "[dance2_sect]" "module = $MODULE" "activate = 1" \
        "log_level = info" "$@" >>"$TMP/$name.cnf"
}

# cc_expect WHAT RC ARGS... [-- PATTERN...] - `dance check-config ARGS`
# exits RC and its output matches every PATTERN (grep -E).
cc_expect() {
    local what=$1 want=$2 rc p ok=1
    local -a args=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        args+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    "$DANCE" check-config "${args[@]}" >"$TMP/cc.out" 2>&1
    rc=$?
    [ "$rc" = "$want" ] || ok=0
    sanitized "$what" "$TMP/cc.out" || ok=0
    for p in "$@"; do
        if ! grep -qE -- "$p" "$TMP/cc.out"; then
            ok=0
            echo "#   no line matches: $p"
        fi
    done
    if [ "$ok" = 1 ]; then
        tls_pass "$what"
    else
        tls_fail "$what" "exit $rc (want $want)"
        sed 's/^/#   /' "$TMP/cc.out"
    fi
}

# --- configurations the provider accepts ------------------------------------
tls_conf good
compare good active
tls_conf server client_auth=require 'allow=*.example.test, _c.*.test' \
    request_cert=always identity_check=strict profile=client-auth-13
compare server active
tls_conf client client_name=_mqtt-client.dev1.example.test \
    server_dane=opportunistic hello_name=off extension_type=65100 \
    cache_max_bytes=1048576 clock_skew=0 cache_negative_ttl=0
compare client active
# A key written twice: libcrypto keeps the last value.
tls_conf twice client_auth=require
add twice "client_auth = off"
compare twice active
if grep -q '^    client_auth  *= off  *written' "$TMP/cc.out"; then
    tls_pass "twice: check-config shows the value the provider gets (off)"
else
    tls_fail "twice: check-config shows client_auth = off" \
        "$(grep client_auth "$TMP/cc.out")"
fi
# Two sections with the same settings: one runtime, no conflict.
tls_conf agree client_auth=require 'allow=*.test'
second agree "client_auth = require" "allow = *.test" \
    "trust_anchor = $DW_ANCHOR" "nameservers = $DW_NSD" "timeout_ms = 1000" \
    "log_file = $TMP/agree.log"
compare agree active
# Not activated by the file: the provider is not loaded, nothing refused.
tls_conf idle client_auth=maybe
awk '/^activate = 1$/ && ++n == 2 { next } { print }' "$TMP/idle.cnf" \
    >"$TMP/idle.tmp" && mv "$TMP/idle.tmp" "$TMP/idle.cnf"
grep -c '^activate' "$TMP/idle.cnf" | grep -q '^1$' ||
    tls_die "idle.cnf: cannot drop the dance section's activate"
provider idle
if [ "$PV" = inactive ]; then
    tls_pass "idle: the provider is not loaded"
else
    tls_fail "idle: the provider is not loaded" "it is $PV"
fi
# ...but it is checked all the same: an application may load it.
cc_expect "idle: check-config still checks the section an application may load" \
    1 --offline "$TMP/idle.cnf" -- 'not activated by the file' \
    "error: client_auth = 'maybe'"

# --- every refusal of the provider -----------------------------------------
# Keys: unknown, and every kind of bad value.
tls_conf unknown clientauth=require
compare unknown refused
tls_conf enum client_auth=maybe
compare enum refused
tls_conf number timeout_ms=5
compare number refused
tls_conf bytes cache_max_bytes=0
compare bytes refused
tls_conf skew clock_skew=86401
compare skew refused
tls_conf name 'client_name=bad name'
compare name refused
tls_conf pattern client_auth=require 'allow=*.ok.test, bad*.test'
compare pattern refused
tls_conf service client_service=mqtt
compare service refused
tls_conf servers nameservers=127.0.0.1@99999
compare servers refused
tls_conf emptylog log_file=
add emptylog "log_file ="
compare emptylog refused
# Rules across keys: client_auth on needs allow.
tls_conf noallow client_auth=require allow=
compare noallow refused
# allow's value names a section: libcrypto passes allow.<key> instead, so
# the provider has no allow at all.
tls_conf allowsect client_auth=require allow=names
printf '%s\n' "" "[names]" "a = *.test" >>"$TMP/allowsect.cnf"
compare allowsect refused
if grep -q 'warning: allow = names names a section' "$TMP/cc.out"; then
    tls_pass "allowsect: check-config explains why allow is not set"
else
    tls_fail "allowsect: check-config explains why allow is not set" "no warning"
fi
# Activation-time checks outside the keys.
tls_conf exttype extension_type=50
compare exttype refused
tls_conf exttype43 extension_type=43
compare exttype43 refused
tls_conf logdir log_file=/nonexistent-dir/dance.log
compare logdir refused
tls_conf syslogrel log_file=syslog:relative/socket
compare syslogrel refused
tls_conf noanchor trust_anchor=/nonexistent/root.key
compare noanchor refused
: >"$TMP/empty.key"
tls_conf emptyanchor trust_anchor="$TMP/empty.key"
compare emptyanchor refused
tls_conf trustad dnssec=trust-ad nameservers=192.0.2.1 trust_anchor=
compare trustad refused
# Two activations that conflict: the second may not change a setting.
tls_conf conflict client_auth=off
second conflict "client_auth = require" "allow = *.test" \
    "trust_anchor = $DW_ANCHOR" "nameservers = $DW_NSD"
compare conflict refused
# The first activation refused: the second is refused with it.
tls_conf firstbad timeout_ms=1
second firstbad "trust_anchor = $DW_ANCHOR" "nameservers = $DW_NSD"
compare firstbad refused
# The section found through "identity" (and an "x.name" entry) is checked
# for unknown keys like any other.
tls_conf identity clientauth=require
sed -i 's/^dance = dance_sect$/x.dancing = dance_sect/' "$TMP/identity.cnf"
add identity "identity = dance"
compare identity refused

# --- prewarm_file (issue 14): a careless operator's list -------------------
# pw_case NAME WANT PATTERN - compare, and the provider's reason (or, when
# it activates, check-config's output) matches PATTERN (grep -E): so a
# refusal for another reason (before prewarm_file existed: "unknown key")
# does not pass.
pw_case() {
    local name=$1 want=$2 pat=$3 text
    compare "$name" "$want"
    if [ "$want" = refused ]; then
        text=$PWHY
    else
        text=$(cat "$TMP/cc.out")
    fi
    if grep -qE -- "$pat" <<<"$text"; then
        tls_pass "$name: says why: $pat"
    else
        tls_fail "$name: says why: $pat" "${text:0:300}"
    fi
}
PW=$TMP/pw
mkdir -p "$PW"
# A good file: comments, blank lines, blanks around names, a name repeated
# (also in another case): two distinct TLSA owners.
printf '%s\n' '# the fleet' '' '  _c.dev1.example.test  ' \
    $'\t_c.dev2.example.test # second' '_C.DEV1.example.test' \
    '_c.dev1.example.test' '   ' >"$PW/good.txt"
tls_conf pwgood client_auth=require 'allow=*.example.test' \
    prewarm_file="$PW/good.txt"
pw_case pwgood active '^  prewarm_file: 2 ClientNames to warm$'
# client_service maps bare names as the server maps received ones: dev1
# and _svc.dev1 are one owner.
printf '%s\n' dev1.example.test _svc.dev1.example.test >"$PW/service.txt"
tls_conf pwservice client_auth=require client_service=_svc \
    prewarm_file="$PW/service.txt"
pw_case pwservice active '^  prewarm_file: 1 ClientName to warm$'
# Exactly as many names as the cache holds: accepted.
tls_conf pwfull client_auth=require cache_max_entries=2 \
    prewarm_file="$PW/good.txt"
pw_case pwfull active '^  prewarm_file: 2 ClientNames to warm$'
tls_conf pwrelative client_auth=require prewarm_file=pw/good.txt
pw_case pwrelative refused "prewarm_file = 'pw/good.txt' is not valid \(expected an absolute path"
tls_conf pwmissing client_auth=require prewarm_file="$PW/missing.txt"
pw_case pwmissing refused "prewarm_file $PW/missing.txt cannot be read: No such file"
tls_conf pwdir client_auth=require prewarm_file="$PW"
pw_case pwdir refused "prewarm_file $PW is not a regular file"
# A FIFO nobody writes to: refused at once, not a hang.
mkfifo "$PW/fifo"
tls_conf pwfifo client_auth=require prewarm_file="$PW/fifo"
pw_case pwfifo refused "prewarm_file $PW/fifo is not a regular file"
{
    printf '_c.dev1.example.test\n'
    printf '%01100d\n' 0
} >"$PW/long.txt"
tls_conf pwlong client_auth=require prewarm_file="$PW/long.txt"
pw_case pwlong refused "prewarm_file $PW/long.txt line 2: longer than 1024 characters"
# A NUL byte would cut "good<NUL>evil" to "good" unseen.
printf '_c.dev1.example.test\n_c.dev2.example.test\0.evil.test\n' \
    >"$PW/nul.txt"
tls_conf pwnul client_auth=require prewarm_file="$PW/nul.txt"
pw_case pwnul refused "prewarm_file $PW/nul.txt line 2: holds a NUL byte"
printf '%s\n' _c.dev1.example.test '# ok so far' 'bad name.example.test' \
    >"$PW/bad.txt"
tls_conf pwbad client_auth=require prewarm_file="$PW/bad.txt"
pw_case pwbad refused "prewarm_file $PW/bad.txt line 3: 'bad name.example.test' is not a ClientName the server accepts \(character other than"
printf '%s\n' _c.dev1.example.test. >"$PW/dot.txt"
tls_conf pwdot client_auth=require prewarm_file="$PW/dot.txt"
pw_case pwdot refused "line 1: '_c.dev1.example.test.' is not a ClientName the server accepts \(trailing dot\)"
# A server's TLSA owner is never a client name.
printf '%s\n' _443._tcp.www.example.test >"$PW/server.txt"
tls_conf pwserver client_auth=require prewarm_file="$PW/server.txt"
pw_case pwserver refused "line 1: '_443._tcp.www.example.test' is not a ClientName the server accepts \(a _<port>._<protocol> name"
# Not on allow: no query for it, in a handshake or here.
printf '%s\n' _c.dev1.example.test _c.dev1.example.org >"$PW/allow.txt"
tls_conf pwallow client_auth=require 'allow=*.example.test' \
    prewarm_file="$PW/allow.txt"
pw_case pwallow refused "prewarm_file $PW/allow.txt line 2: '_c.dev1.example.org' is not a ClientName the server accepts \(name not on the allow list\)"
# A name of 252 octets is a ClientName, but not with _svc in front.
long=$(printf 'a%.0s' {1..61})
printf '%s.%s.%s.%s.test\n' "$long" "$long" "$long" "$long" \
    >"$PW/longowner.txt"
tls_conf pwlongowner client_auth=require client_service=_svc \
    prewarm_file="$PW/longowner.txt"
pw_case pwlongowner refused "line 1: .*its TLSA owner with client_service = _svc is not a DNS name \(name longer than 253 octets\)"
tls_conf pwoff client_auth=off prewarm_file="$PW/good.txt"
pw_case pwoff refused "prewarm_file = $PW/good.txt with client_auth = off: nothing would use"
tls_conf pwnocache client_auth=require cache_max_entries=0 \
    prewarm_file="$PW/good.txt"
pw_case pwnocache refused "prewarm_file = $PW/good.txt with cache_max_entries = 0"
tls_conf pwmany client_auth=require cache_max_entries=1 \
    prewarm_file="$PW/good.txt"
pw_case pwmany refused "prewarm_file $PW/good.txt names (at least )?2 ClientNames, more than cache_max_entries = 1"
# A long file of names: refused without reading it all into memory.
seq -f '_c.dev%g.example.test' 1 5000 >"$PW/many.txt"
tls_conf pwmanymore client_auth=require cache_max_entries=100 \
    prewarm_file="$PW/many.txt"
pw_case pwmanymore refused "prewarm_file $PW/many.txt names at least [0-9]+ ClientNames, more than cache_max_entries = 100"
# A second activation may not change the list, nor add one.
tls_conf pwsecond client_auth=require prewarm_file="$PW/good.txt"
second pwsecond "client_auth = require" "allow = *.test" \
    "trust_anchor = $DW_ANCHOR" "nameservers = $DW_NSD" \
    "prewarm_file = $PW/service.txt"
pw_case pwsecond refused "sets prewarm_file = $PW/service.txt, but .* has prewarm_file = $PW/good.txt"
tls_conf pwsecondadd client_auth=require
second pwsecondadd "client_auth = require" "allow = *.test" \
    "trust_anchor = $DW_ANCHOR" "nameservers = $DW_NSD" \
    "prewarm_file = $PW/good.txt"
pw_case pwsecondadd refused "sets prewarm_file = $PW/good.txt, but .* has prewarm_file = none"
tls_conf pwsame client_auth=require prewarm_file="$PW/good.txt"
second pwsame "client_auth = require" "allow = *.test" \
    "trust_anchor = $DW_ANCHOR" "nameservers = $DW_NSD" \
    "prewarm_file = $PW/good.txt" "log_file = $TMP/pwsame.log"
pw_case pwsame active '^  ok$'

# --- check-config's own duties -------------------------------------------
cc_expect "no FILE: exit 2" 2
cc_expect "a SECTION that does not exist: exit 2" 2 "$TMP/good.cnf" no_such_sect
cc_expect "an unreadable FILE: exit 1" 1 "$TMP/does-not-exist.cnf"
printf '[broken\n' >"$TMP/broken.cnf"
cc_expect "a FILE libcrypto cannot parse: exit 1, naming the line" 1 \
    "$TMP/broken.cnf" -- 'line 1'
cc_expect "SECTION: the named section is checked" 1 \
    --offline "$TMP/enum.cnf" dance_sect -- "client_auth = 'maybe'"
# Every error, not only the first the provider stops at.
tls_conf many client_auth=maybe timeout_ms=5 clientauth=x \
    trust_anchor=/nonexistent/root.key
cc_expect "every error is listed, each naming its key" 1 \
    --offline "$TMP/many.cnf" -- "unknown key 'clientauth'" \
    "timeout_ms = '5'" "client_auth = 'maybe'" \
    "trust anchor file /nonexistent/root.key" "^result: refused \(4 errors\)"
# The effective settings: every key of the table (read from its source),
# written or default.
mapfile -t keys < <(sed -n 's/^    {"\([a-z_]*\)", DANCE_KEY_.*/\1/p' \
    "$SRC_DIR/provider/dance_config.c")
pats=()
keys_pats=()
for key in "${keys[@]}"; do
    pats+=("^    $key +=")
    keys_pats+=("^$key"$'\t')
done
[ "${#pats[@]}" -ge 21 ] || tls_fail "the table has every key" "${#pats[@]}"
cc_expect "the effective settings: ${#pats[@]} keys, written or default" 0 \
    --offline "$TMP/server.cnf" -- "${pats[@]}" \
    '^    profile += client-auth +written' \
    '^    cache_max_ttl += 3600 +default'
# --keys: the table itself, one line a key, every key of the source.
cc_expect "--keys lists all ${#pats[@]} keys with type, role and default" 0 \
    --keys -- "${keys_pats[@]}" \
    $'^client_auth\tenum\tserver\toff\t' \
    $'^trust_anchor\tpath\tresolver\t/usr/share/dns/root.key\t'
# The probe: the test world's nameserver answers, and the anchored zone's
# DNSKEY validates with the configured anchor.
cc_expect "probe: the nameserver answers and the anchor validates" 0 \
    "$TMP/server.cnf" -- '^  nameserver .*DNSKEY: NOERROR, [1-9][0-9]* answer' \
    '^  lookup .* DNSKEY \(dnssec = validate\): secure'
# A closed port: the provider activates (lookups fail later), so exit 0,
# but the operator is told.
tls_conf closed nameservers="127.0.0.1@$CLOSED_PORT" timeout_ms=300
cc_expect "probe: a nameserver that does not answer is a warning" 0 \
    "$TMP/closed.cnf" -- '^  nameserver .*: no answer' '^  warning: '
# The wrong anchor: bogus, said so.
printf 'test. 3600 IN DS 12345 13 2 %s\n' "$(printf '%064d' 0)" \
    >"$TMP/wrong.key"
tls_conf wrong trust_anchor="$TMP/wrong.key"
cc_expect "probe: an anchor that does not match the zone is reported bogus" 0 \
    "$TMP/wrong.cnf" -- '^  lookup .* DNSKEY \(dnssec = validate\): bogus'
tls_done
