#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# differential.sh - our validator against unbound, scenario by scenario.
#
#   differential.sh FAULTPROXY_BINARY DANCE_BINARY
#
# Starts its own DNS world in scenario mode (DW_SCENARIOS=1
# tests/dnsworld/dnsworld.sh: the usual zones plus those of
# tests/dnsworld/scenarios.sh) and, for every case below, asks
#
#   - `dance lookup` in validate mode (our validator, talking to nsd
#     itself, with the world's test. trust anchor), and
#   - the world's unbound (a validating resolver with the same trust
#     anchor, whose stub zones point at the same nsd, second nsd and fault
#     proxy that dance is given), with drill,
#
# maps both answers to one verdict class: secure, secure-nodata,
# secure-nxdomain, insecure, bogus or indeterminate, and fails on any
# disagreement that is not listed in POLICY below.
#
# Reading unbound's verdict (RFC 4035 3.2.3, RFC 6840 5.8, unbound's
# documented behaviour): the query has RD and DO set and goes over TCP
# (no truncated answers).  unbound answers
# SERVFAIL when validation fails (bogus) and when it cannot get an answer
# (indeterminate); the two are told apart by asking again with CD set
# (RFC 4035 3.2.2): bogus data is then returned, an unreachable or failing
# server still gives SERVFAIL.  Otherwise AD=1 means secure: an answer
# holding a record of the asked type is "secure", NOERROR without one
# "secure-nodata", NXDOMAIN "secure-nxdomain"; AD=0 means insecure.
#
# Why both see the same answers: unbound has no view of its own (stub
# zones to the world's servers only, no qname minimisation, no aggressive
# NSEC; see scenarios.sh scen_unbound_conf), and every scenario record is
# served by the same nsd process dance asks; fault cases go through the
# same proxy for both, and each such case checks in the proxy's log that
# both really asked it (a resolver may answer from what it has cached).
# The scenario list also says what each case is built to be, and the test
# fails when unbound's verdict is not that: a world that no longer serves
# the scenario cannot pass silently.
#
# The expected verdicts are unbound's as packaged in Debian 12
# (1.17.1-2+deb12u2 or later: with the KeyTrap/NSEC3 fixes of
# CVE-2023-50387/50868, which the keytrap cases depend on), and Debian 13's
# (scripts/debian13.sh) where a case says it differs.
#
# Output: one "ok - ..." / "not ok - ..." line per case, then a summary.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 FAULTPROXY_BINARY DANCE_BINARY" >&2
    exit 2
fi
FAULTPROXY=$1
DANCE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
DNSWORLD=$HERE/../dnsworld/dnsworld.sh
[ -x "$DANCE" ] || { echo "differential.sh: no binary $DANCE" >&2; exit 2; }
command -v drill >/dev/null || { echo "differential.sh: no drill" >&2; exit 2; }

TMP=$(mktemp -d)
WORLD=$TMP/world
cleanup() {
    [ -n "${DIFF_WORLD_ENV:-}" ] || "$DNSWORLD" stop "$WORLD" || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM # so that a ctest timeout still stops the world

# DIFF_WORLD_ENV=ENV_FILE reuses a scenario world already running (for
# development; its unbound has answers cached from earlier runs, so the
# proxy cases fail a second run, and skew.test. is only 4 minutes ahead);
# by default the test starts and stops its own.
if [ -n "${DIFF_WORLD_ENV:-}" ]; then
    # shellcheck source=/dev/null
    . "$DIFF_WORLD_ENV"
    [ "${DW_SCENARIOS:-0}" = 1 ] ||
        { echo "differential.sh: $DIFF_WORLD_ENV: not a scenario world" >&2
          exit 2; }
else
    DW_SCENARIOS=1 "$DNSWORLD" start "$WORLD" "$FAULTPROXY" \
        >"$TMP/world.log" 2>&1 || {
        cat "$TMP/world.log" >&2
        echo "differential.sh: the DNS world did not start" >&2
        exit 1
    }
    # shellcheck source=/dev/null
    . "$WORLD/env"
fi

# Documented policy differences: "LABEL" -> "DANCE/UNBOUND: reason".  A case
# listed here passes only with exactly this pair of verdicts.  A case where
# dance says secure (or proves absence) and unbound does not is a bug to
# fix, not a policy, unless the scenario's data is genuinely signed and
# unbound's verdict is a resource limit, shown by a twin scenario that
# unbound finds secure; the entry must say so.
declare -A POLICY=(
    # Past our per-lookup bound on signature checks (issue 9 item 7: 40
    # RRSIGs with the tag of 41 keys) the result is indeterminate,
    # "validation budget exhausted"; unbound says bogus.  Both refuse.
    ["keytrap: RRset under same-tag keys and RRSIGs"]="indeterminate/bogus: \
work bound reached; both refuse, we call it indeterminate (issue 9 item 7)"
    # The A RRset is genuinely signed by the key the DS names (tagclash is
    # the same construction with 2 extra keys and unbound finds it
    # secure).  With 40 keys sharing that tag, unbound's KeyTrap
    # mitigation gives up matching the DS against keys of that tag after a
    # few failed digests and calls the DNSKEY RRset bogus.  We select the
    # key by DS digest (cheap) and verify once, which the work bound
    # allows.  Not an acceptance of forged data: no signature but the
    # genuine one verifies.
    ["keytrap: RRset under same-tag keys"]="secure/bogus: \
unbound's KeyTrap cap on same-tag keys; the data is genuinely signed"
    # Our clock skew allowance is 300 s by default (clock_skew, issue 9
    # item 6); unbound's is 10% of the validity period, between 1 h and
    # 24 h (val-sig-skew-min/max).  Signatures that start 2 h from now are
    # bogus for us and secure for unbound: we are the stricter one.
    ["skewhours: inception 2 hours ahead"]="bogus/secure: \
our skew allowance (300 s) is smaller than unbound's (up to 24 h)"
    # A CNAME that does not follow from the validated DNAME above it (the
    # proxy forged it): unbound's scrubber drops it and synthesises the
    # right one (so: retarget.www.example.test, NXDOMAIN); we call the
    # answer bogus.  Neither follows the forgery; we refuse, it repairs.
    ["dname: forged synthesised CNAME"]="bogus/secure-nxdomain: \
a CNAME contradicting its DNAME is bogus for us, replaced by unbound"
)

PASSED=0
FAILED=0
DISAGREE=()
declare -A SEEN=() # labels of the cases run

# unbound_verdict NAME TYPE - unbound's verdict class (see the header).
unbound_verdict() {
    local name=$1 type=$2 out rcode flags
    out=$(drill -t -D -p "${DW_UNBOUND#*@}" "@${DW_UNBOUND%@*}" \
        "$name" "$type" 2>&1) || true
    printf '%s\n' "$out" >"$TMP/unbound.out"
    rcode=$(sed -n 's/.*rcode: \([A-Z]*\),.*/\1/p' <<<"$out" | head -n1)
    flags=$(sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$out" | head -n1)
    case "$rcode" in
    SERVFAIL)
        out=$(drill -t -D -o CD -p "${DW_UNBOUND#*@}" "@${DW_UNBOUND%@*}" \
            "$name" "$type" 2>&1) || true
        printf '%s\n' "--- again with CD:" "$out" >>"$TMP/unbound.out"
        case "$(sed -n 's/.*rcode: \([A-Z]*\),.*/\1/p' <<<"$out" | head -n1)" in
        NOERROR | NXDOMAIN) echo bogus ;;
        *) echo indeterminate ;;
        esac
        return
        ;;
    NOERROR | NXDOMAIN) ;;
    *)
        echo "indeterminate"
        return
        ;;
    esac
    case " $flags " in
    *" ad "*) ;;
    *)
        echo insecure
        return
        ;;
    esac
    if [ "$rcode" = NXDOMAIN ]; then
        echo secure-nxdomain
    elif awk -v t="$type" '/^;; ANSWER SECTION:/ { a = 1; next }
            /^;; / { a = 0 } a && $4 == t { f = 1 } END { exit !f }' \
        <<<"$out"; then
        echo secure
    else
        echo secure-nodata
    fi
}

# dance_verdict NAME TYPE SERVERS... - dance lookup's status line, or
# "exit-N" when its exit status does not go with it (a crash, a sanitizer
# report, a usage error).
dance_verdict() {
    local name=$1 type=$2 rc=0 st want
    shift 2
    "$DANCE" lookup --timeout 1000 -a "$DW_ANCHOR" "$@" -t "$type" "$name" \
        >"$TMP/dance.out" 2>&1 </dev/null || rc=$?
    st=$(sed -n '1s/^status: //p' "$TMP/dance.out")
    case "$st" in
    secure) want=0 ;;
    secure-nodata | secure-nxdomain) want=2 ;;
    insecure) want=3 ;;
    bogus) want=4 ;;
    indeterminate) want=5 ;;
    *) want=none ;;
    esac
    if [ "$rc" = "$want" ]; then
        echo "$st"
    else
        echo "exit-$rc"
    fi
}

# proxy_count NAME VIA - how many queries for NAME the proxy has logged
# (0 unless VIA is proxy: only those cases are checked).
proxy_count() {
    if [ "$2" = proxy ]; then
        grep -c -F -- " $1. " "$DW_PROXY_NSD_LOG" 2>/dev/null || true
    else
        echo 0
    fi
}

# case LABEL EXPECT TYPE NAME [via] - compare the two verdicts for NAME
# TYPE.  EXPECT is what the scenario is built to be (unbound must say it).
# via: nsd (default), proxy (fault proxy in front of nsd) or split (the
# second nsd first, then nsd).
case_() {
    local label=$1 expect=$2 type=$3 name=$4 via=${5:-nsd} d u pol t0 ms
    local n0 n1 n2
    local -a servers
    case "$via" in
    nsd) servers=(-s "$DW_NSD") ;;
    proxy) servers=(-s "$DW_PROXY_NSD") ;;
    split) servers=(-s "$DW_NSD2" -s "$DW_NSD") ;;
    esac
    t0=$(date +%s%N)
    if [ "$via" = proxy ]; then
        # One after the other, to tell their queries apart in the log.
        n0=$(proxy_count "$name" "$via")
        d=$(dance_verdict "$name" "$type" "${servers[@]}")
        n1=$(proxy_count "$name" "$via")
        u=$(unbound_verdict "$name" "$type")
        n2=$(proxy_count "$name" "$via")
    else
        # Independent questions to the same servers: ask both at once.
        dance_verdict "$name" "$type" "${servers[@]}" >"$TMP/dance.verdict" &
        u=$(unbound_verdict "$name" "$type")
        wait $!
        d=$(cat "$TMP/dance.verdict")
        n0=0 n1=0 n2=0
    fi
    ms=$((($(date +%s%N) - t0) / 1000000))
    pol=${POLICY[$label]:-}
    SEEN[$label]=1
    if [ "$via" = proxy ] && { [ "$n1" = "$n0" ] || [ "$n2" = "$n1" ]; }; then
        # Both must have seen the proxy's answer, or the comparison is void.
        FAILED=$((FAILED + 1))
        echo "not ok - $label: not asked through the proxy by both" \
            "(dance: $((n1 - n0)) queries, unbound: $((n2 - n1)))"
    elif [ "$u" != "$expect" ]; then
        FAILED=$((FAILED + 1))
        echo "not ok - $label: unbound says $u, the scenario is built" \
            "to be $expect (dance: $d)"
        sed 's/^/#   unbound: /' "$TMP/unbound.out"
    elif [ "$d" = "$u" ]; then
        PASSED=$((PASSED + 1))
        echo "ok - $label: $d ($ms ms)"
        [ -z "$pol" ] ||
            echo "# note: $label agrees now; its POLICY entry can go"
    elif [ -n "$pol" ] && [ "${pol%%:*}" = "$d/$u" ]; then
        PASSED=$((PASSED + 1))
        echo "ok - $label: dance $d, unbound $u (policy: ${pol#*: })"
    else
        FAILED=$((FAILED + 1))
        DISAGREE+=("$label")
        echo "not ok - $label: dance says $d, unbound says $u"
        sed 's/^/#   dance: /' "$TMP/dance.out"
    fi
}

echo "# dance lookup (validate) against unbound $(unbound -V 2>/dev/null |
    sed -n 's/^Version //p')"

# --- the usual world ---------------------------------------------------------
case_ "secure TLSA" secure TLSA _443._tcp.www.example.test
case_ "secure A" secure A www.example.test
case_ "secure CNAME into secure" secure TLSA alias.example.test
case_ "secure IPSECKEY via CNAME" secure IPSECKEY main.keystore.example.test
case_ "wildcard, genuine (NSEC)" secure TLSA foo.wild.example.test
case_ "NSEC nxdomain" secure-nxdomain TLSA nosuchname.example.test
case_ "NSEC nodata" secure-nodata TLSA www.example.test
case_ "NSEC3 secure" secure TLSA _443._tcp.www.nsec3.test
case_ "NSEC3 nxdomain" secure-nxdomain TLSA nosuchname.nsec3.test
case_ "NSEC3 nodata" secure-nodata TLSA www.nsec3.test
case_ "insecure delegation" insecure TLSA _443._tcp.www.insecure.test
case_ "CNAME into insecure" insecure TLSA toinsecure.example.test
case_ "insecure delegation, DS" secure-nodata DS insecure.test
case_ "wrong DS" bogus TLSA _443._tcp.www.bogus.test
case_ "CNAME into bogus" bogus TLSA tobogus.example.test
case_ "expired signatures" bogus TLSA _443._tcp.www.expired.test
case_ "tampered RDATA" bogus TLSA tampered.example.test
case_ "stripped RRSIGs" bogus TLSA strip.example.test proxy
case_ "SERVFAIL from the server" indeterminate TLSA \
    servfail.example.test proxy
case_ "garbage from the server" indeterminate TLSA \
    garbage.example.test proxy

# --- wildcard replay ---------------------------------------------------------
for z in wcnsec wcnsec3; do
    case_ "$z: wildcard, genuine" secure TLSA _mqtt-client.nobody.$z.test
    case_ "$z: wildcard, nodata" secure-nodata A nobody.$z.test
    case_ "$z: existing name, nodata" secure-nodata TLSA www.$z.test
    case_ "$z: wildcard replayed below an existing node, covering proof" \
        bogus TLSA _mqtt-client.admin.$z.test
    case_ "$z: wildcard replayed as a name of its own, no proof" \
        bogus TLSA _mqtt-client.staff.$z.test
done

# --- parent and child on separate servers ------------------------------------
case_ "split: DS from the parent" secure DS split.test split
case_ "split: TLSA in the child" secure TLSA _443._tcp.www.split.test split
case_ "split: nxdomain in the child" secure-nxdomain TLSA \
    nosuch.split.test split

# --- NSEC3 opt-out -----------------------------------------------------------
case_ "optout: secure name" secure TLSA _443._tcp.www.optout.test
case_ "optout: nodata at a name with an NSEC3" secure-nodata TLSA \
    www.optout.test
case_ "optout: unsigned delegation in an opt-out span" insecure TLSA \
    _443._tcp.www.unsigned.optout.test
case_ "optout: no DS for the unsigned delegation" insecure DS \
    unsigned.optout.test
case_ "optout: nxdomain covered by opt-out" insecure TLSA \
    nosuch.optout.test
case_ "optout: empty non-terminal above an opted-out delegation" insecure \
    TLSA ent.optout.test
case_ "optout: wildcard answer, next closer covered by opt-out" insecure \
    TLSA _mqtt-client.x.wc.optout.test

# --- NSEC3 with unknown flags ------------------------------------------------
case_ "nsec3flags: secure name" secure TLSA _443._tcp.www.nsec3flags.test
case_ "nsec3flags: nxdomain only provable with flags 2" bogus TLSA \
    nosuch.nsec3flags.test
case_ "nsec3flags: nodata only provable with flags 2" bogus TLSA \
    www.nsec3flags.test

# --- DNAME -------------------------------------------------------------------
case_ "dname: the DNAME itself" secure DNAME sec.dname.test
case_ "dname: to a secure target" secure TLSA _443._tcp.sec.dname.test
case_ "dname: to an insecure target" insecure TLSA _443._tcp.ins.dname.test
case_ "dname: to a missing name" secure-nxdomain TLSA _443._tcp.nx.dname.test
case_ "dname: to a name without the type" secure-nodata TLSA \
    www.nd.dname.test

# Asked for the CNAME type itself, unbound 1.17 looks for a zone cut at
# _tcp.sec.dname.test (the unsigned synthesised CNAME), gets the DNAME and
# calls it bogus ("DS got DNAME answer"); so do we.  Debian 13's unbound
# (later than 1.17) accepts the CNAME as synthesised from the signed DNAME:
# secure.  We keep the stricter verdict (a TLSA lookup through the DNAME
# follows the CNAME and is secure for both, cases above).
dname_cname=bogus
if [ "$(printf '%s\n' 1.18 "$(unbound -V 2>/dev/null |
    sed -n 's/^Version //p')" | sort -V | head -n 1)" = 1.18 ]; then
    dname_cname=secure
    POLICY["dname: the synthesised CNAME itself"]="bogus/secure: \
asked for the CNAME type, unbound after 1.17 validates a CNAME synthesised \
from a signed DNAME; we call it bogus, the stricter verdict"
fi
case_ "dname: the synthesised CNAME itself" "$dname_cname" CNAME \
    _443._tcp.sec.dname.test
# The proxy rewrites the unsigned CNAME synthesised from fsec's DNAME:
# retarget.fsec.dname.test -> www.example.test (DNAME says
# retarget.www.example.test, which does not exist).  fsec is used by this
# case only: unbound would synthesise from a DNAME it had cached instead
# of asking (the proxy log check below catches that).
case_ "dname: forged synthesised CNAME" secure-nxdomain A \
    retarget.fsec.dname.test proxy
case_ "cname: a loop" indeterminate TLSA loop1.dname.test

# --- DS records a validator cannot use ---------------------------------------
case_ "unknownds: only DS has algorithm 253" insecure TLSA \
    _443._tcp.www.unknownds.test
case_ "mixedds: a good DS beside one of digest type 99" secure TLSA \
    _443._tcp.www.mixedds.test

# --- signing algorithms and DS digest types ---------------------------------
for z in alg5 alg7 alg8 alg10 alg13 alg14 alg15 alg16 ds1 ds4; do
    case_ "$z: TLSA" secure TLSA _443._tcp.www.$z.test
    case_ "$z: nxdomain" secure-nxdomain TLSA nosuch.$z.test
done

# --- key roll-over, KSK/ZSK split, DS key that signs nothing, deep chain ----
case_ "roll: two KSKs, DS for the new one" secure TLSA _443._tcp.www.roll.test
case_ "kskzsk: KSK signs keys, ZSK signs data" secure TLSA \
    _443._tcp.www.kskzsk.test
case_ "dsnosig: the DS-named key signs no DNSKEY RRset" bogus TLSA \
    _443._tcp.www.dsnosig.test
case_ "deep: three-level chain" secure TLSA _443._tcp.www.a.deep.test
case_ "deep: nxdomain three levels down" secure-nxdomain TLSA \
    nosuch.a.deep.test
case_ "deep: DS of the third level" secure DS a.deep.test

# --- KeyTrap-like, and expensive NSEC3 ---------------------------------------
for z in tagclash keytrap; do
    # tagclash is built secure; keytrap is past unbound's KeyTrap limits
    # (it tries at most a few keys with one tag), so it is bogus there.
    want=secure
    [ "$z" = keytrap ] && want=bogus
    case_ "$z: RRset under same-tag keys and RRSIGs" $want TLSA \
        _443._tcp.www.$z.test
    case_ "$z: RRset under same-tag keys" $want A www.$z.test
done
case_ "iter: secure name" secure TLSA _443._tcp.www.iter.test
case_ "iter: nxdomain, 200 iterations" insecure TLSA nosuch.iter.test
case_ "iter: nodata, 200 iterations" insecure TLSA www.iter.test
case_ "iter150: nxdomain, 150 iterations" secure-nxdomain TLSA \
    nosuch.iter150.test
case_ "iter150: nodata, 150 iterations" secure-nodata TLSA www.iter150.test

# --- clock skew: inception in the future ------------------------------------
case_ "skew: inception 4 minutes ahead" secure TLSA _443._tcp.www.skew.test
case_ "skewhours: inception 2 hours ahead" secure TLSA \
    _443._tcp.www.skewhours.test
case_ "future: inception 2 days ahead" bogus TLSA _443._tcp.www.future.test

# A POLICY entry must name a case that ran (a typo must not hide).
for label in "${!POLICY[@]}"; do
    if [ -z "${SEEN[$label]:-}" ]; then
        FAILED=$((FAILED + 1))
        echo "not ok - POLICY entry '$label' names no case"
    fi
done

echo "$PASSED passed, $FAILED failed"
if [ ${#DISAGREE[@]} -gt 0 ]; then
    echo "# disagreements: ${DISAGREE[*]}"
fi
[ "$FAILED" -eq 0 ]
