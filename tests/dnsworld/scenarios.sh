# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# scenarios.sh - the differential test's extra zones for the DNS world.
#
# Sourced by dnsworld.sh when DW_SCENARIOS=1 (never run on its own); it
# uses dnsworld.sh's helpers (keygen, ds_of, soa, sign, verify_zone, ...)
# and its globals (DIR, SIG_INCEPTION, SIG_EXPIRATION).  Without
# DW_SCENARIOS the world is exactly the one the other tests know.
#
# Zones (all delegated from test. with a DS, except unsigned.optout.test.):
#
#   wcnsec.test.     NSEC    *.wcnsec.test. TLSA; after signing its TLSA
#                            RRset and RRSIG are copied unchanged to
#                            *.admin (admin exists: nsd then answers
#                            _mqtt-client.admin with the replayed RRset
#                            and the genuine NSEC covering the name) and
#                            to _mqtt-client.staff (no proof at all)
#   wcnsec3.test.    NSEC3   the same replays in an NSEC3 zone
#   optout.test.     NSEC3   opt-out, a wildcard *.wc; the NSEC3s of
#                            the unsigned delegations unsigned, a.ent and
#                            of the empty non-terminal ent are removed
#                            after signing (RFC 5155 7.1 allows it), the
#                            chain relinked and re-signed
#   unsigned.optout.test.    unsigned child of optout.test. (no DS)
#   dname.test.      NSEC    DNAMEs to a secure, an insecure, a missing
#                            and a record-less target; fsec, a DNAME only
#                            reached through the fault proxy (retarget);
#                            a CNAME loop
#   nsec3flags.test. NSEC3   every NSEC3's flags field set to 2 (unknown)
#                            after signing, re-signed with the zone key
#   split.test.      NSEC    served only by a second nsd (DW_NSD2); the
#                            first nsd has the parent test. only
#   tagclash.test.   NSEC    RSASHA256; 2 extra DNSKEYs with the zone
#                            key's tag (random moduli) and 1 extra RRSIG
#                            with that tag (random signature) over
#                            _443._tcp.www, ahead of the genuine one
#   keytrap.test.    NSEC    the same with 40 keys and 40 RRSIGs (KeyTrap,
#                            CVE-2023-50387, in small)
#   iter.test.       NSEC3   200 hash iterations, a salt, 300 names
#   iter150.test.    NSEC3   150 iterations (unbound's limit), 10 names
#   unknownds.test.  NSEC    its DS in test. has algorithm 253 (private)
#   mixedds.test.    NSEC    a good DS and one with digest type 99
#   alg5.test. ... alg16.test.  signed with algorithm 5, 7 (NSEC3), 8, 10,
#                            13, 14, 15, 16
#   ds1.test., ds4.test.     DS digest SHA-1 (1) and SHA-384 (4) only
#   roll.test.       NSEC    two KSKs sign the DNSKEY RRset, the parent's
#                            DS names the new one (a roll-over)
#   kskzsk.test.     NSEC    a KSK signs the DNSKEY RRset, a ZSK the rest
#   dsnosig.test.    NSEC    the key the DS names is published but signs
#                            nothing; another key signs everything
#   deep.test., a.deep.test.  a three-level chain (a. has its DS in deep.)
#   skew.test., skewhours.test., future.test.
#                    NSEC    signatures whose inception is 4 min, 2 h and
#                            2 days after the world's start
#
# Signed records are changed after signing only by re-signing them with
# the zone's own key through ldns-signzone (resign_nsec3s), or by copying
# signed records verbatim (the replays), so every signature nsd serves is
# one a real signer made.

# Signed children of test. (they get NS + DS in test.).
SCEN_SIGNED="wcnsec wcnsec3 optout dname nsec3flags tagclash keytrap iter"
SCEN_SIGNED="$SCEN_SIGNED iter150 unknownds mixedds skew skewhours future split"
SCEN_SIGNED="$SCEN_SIGNED roll kskzsk dsnosig deep"
# One zone per signing algorithm (RFC 8624) and per DS digest type.
readonly SCEN_ALGS="alg5:RSASHA1 alg7:RSASHA1-NSEC3-SHA1 alg8:RSASHA256
alg10:RSASHA512 alg13:ECDSAP256SHA256 alg14:ECDSAP384SHA384 alg15:ED25519
alg16:ED448"
readonly SCEN_DIGESTS="ds1:1 ds4:4"
for scen_c in $SCEN_ALGS $SCEN_DIGESTS; do
    SCEN_SIGNED="$SCEN_SIGNED ${scen_c%%:*}"
done
readonly SCEN_SIGNED
# The zone only the second nsd serves, and those the first one serves in
# scenario mode besides the usual ones.
readonly SCEN_SPLIT_ZONE=split.test
SCEN_ZONES="unsigned.optout.test a.deep.test"
for scen_c in $SCEN_SIGNED; do
    [ "$scen_c.test" = "$SCEN_SPLIT_ZONE" ] ||
        SCEN_ZONES="$SCEN_ZONES $scen_c.test"
done
unset scen_c
readonly SCEN_ZONES
readonly TAGCLASH_KEYS=2  # a few extra DNSKEYs sharing the zone key's tag
readonly TAGCLASH_SIGS=1  # and an extra RRSIG with that tag
readonly KEYTRAP_KEYS=40  # many extra DNSKEYs sharing the zone key's tag
readonly KEYTRAP_SIGS=40  # extra RRSIGs with that tag over one RRset
readonly SKEW_NEAR=240      # ahead of now, still ahead when queried; < 300 s
readonly SKEW_HOURS=7200    # beyond ours (300 s), within unbound's (24 h)
readonly SKEW_FAR=$((2 * 86400)) # beyond both
readonly ITER_ITERATIONS=200
readonly ITER_NAMES=300

# scen_keys - generate the scenario zones' keys (globals SK_<zone>, some
# read only by name, through ${!k}).
# shellcheck disable=SC2034
scen_keys() {
    SK_wcnsec=$(keygen ECDSAP256SHA256 wcnsec.test.)
    SK_wcnsec3=$(keygen ECDSAP256SHA256 wcnsec3.test.)
    SK_optout=$(keygen ECDSAP256SHA256 optout.test.)
    SK_dname=$(keygen ECDSAP256SHA256 dname.test.)
    SK_nsec3flags=$(keygen ECDSAP256SHA256 nsec3flags.test.)
    SK_split=$(keygen ECDSAP256SHA256 split.test.)
    SK_tagclash=$(keygen RSASHA256 tagclash.test. 2048)
    SK_keytrap=$(keygen RSASHA256 keytrap.test. 2048)
    SK_iter=$(keygen ED25519 iter.test.)
    SK_iter150=$(keygen ED25519 iter150.test.)
    SK_unknownds=$(keygen ECDSAP256SHA256 unknownds.test.)
    SK_mixedds=$(keygen ECDSAP256SHA256 mixedds.test.)
    local a bits
    for a in $SCEN_ALGS; do
        bits=
        case "${a#*:}" in RSA*) bits=2048 ;; esac
        printf -v "SK_${a%%:*}" %s \
            "$(keygen "${a#*:}" "${a%%:*}.test." $bits)"
    done
    for a in $SCEN_DIGESTS; do
        printf -v "SK_${a%%:*}" %s "$(keygen ECDSAP256SHA256 "${a%%:*}.test.")"
    done
    SK_roll=$(keygen ECDSAP256SHA256 roll.test.)     # the new KSK
    SK_roll_old=$(keygen ECDSAP256SHA256 roll.test.) # the old one
    SK_kskzsk=$(keygen ECDSAP256SHA256 kskzsk.test.)
    SK_kskzsk_zsk=$(cd "$DIR/keys" &&
        ldns-keygen -r /dev/urandom -a ECDSAP256SHA256 kskzsk.test.)
    SK_kskzsk_zsk=$DIR/keys/$SK_kskzsk_zsk
    SK_dsnosig=$(keygen ECDSAP256SHA256 dsnosig.test.)    # has the DS
    SK_dsnosig_b=$(keygen ECDSAP256SHA256 dsnosig.test.) # signs
    SK_deep=$(keygen ECDSAP256SHA256 deep.test.)
    SK_deep_a=$(keygen ECDSAP256SHA256 a.deep.test.)
    SK_skew=$(keygen ECDSAP256SHA256 skew.test.)
    SK_skewhours=$(keygen ECDSAP256SHA256 skewhours.test.)
    SK_future=$(keygen ECDSAP256SHA256 future.test.)
}

# scen_parent_records - the delegations and DS records they need in test.
# unknownds.test.'s only DS names algorithm 253 (private) and one of
# mixedds.test.'s has digest type 99 (unassigned): validators skip DS
# records they cannot use (RFC 4035 5.2, RFC 6840 5.2).
scen_parent_records() {
    local c k
    for c in $SCEN_SIGNED; do
        k=SK_$c
        echo "$c	IN	NS	ns.test."
        case "$c" in
        unknownds)
            ds_of "${!k}" | awk '{ $5 = 253; print }'
            ;;
        mixedds)
            ds_of "${!k}"
            ds_of "${!k}" | awk '{ $6 = 99; print }'
            ;;
        ds1 | ds4)
            ldns-key2ds -n "-${c#ds}" "${!k}.key" | awk '$4 == "DS"'
            ;;
        *) ds_of "${!k}" ;;
        esac
    done
}

# scen_copy_rrset FILE FROM TYPE TO... - print FILE's TYPE records of owner
# FROM and the RRSIGs covering them, with the owner replaced by each TO.
scen_copy_rrset() {
    local file=$1 from=$2 type=$3 to
    shift 3
    for to in "$@"; do
        awk -v from="$from" -v type="$type" -v to="$to" '
            $1 == from && ($4 == type || ($4 == "RRSIG" && $5 == type)) {
                $1 = to; print; n++ }
            END { if (n < 2) exit 1 }' "$file" ||
            fail "no signed $type RRset at $from in $file"
    done
}

# nsec3_params FILE - "ALG ITER SALT" of the zone's NSEC3PARAM.
nsec3_params() {
    awk '$4 == "NSEC3PARAM" { print $5, $7, $8; exit }' "$1"
}

# resign_nsec3s UNSIGNED SIGNED ORIGIN KEY FLAGS DROP... - rewrite the
# NSEC3 chain of SIGNED: remove the NSEC3 of each DROP name, set every
# flags field to FLAGS ("-" keeps them), relink the chain in hash order,
# and re-sign each NSEC3 with KEY.  ldns-signzone signs an NSEC3 it is
# given only if the zone holds the name it is the hash of, so the NSEC3s
# are signed inside the UNSIGNED zone (NSEC mode) and only their RRSIGs
# are kept.
resign_nsec3s() {
    local unsigned=$1 signed=$2 origin=$3 key=$4 flags=$5 alg iter salt d h
    local drop=" " tmp="$2.nsec3"
    shift 5
    read -r alg iter salt < <(nsec3_params "$signed")
    [ "$salt" = - ] && salt=
    for d in "$@"; do
        h=$(ldns-nsec3-hash -a "$alg" -t "$iter" -s "$salt" "$d") ||
            fail "ldns-nsec3-hash failed for $d"
        drop="$drop${h%%.*} "
    done
    # The kept NSEC3s, sorted by hash (base32hex keeps the order), relinked.
    awk -v drop="$drop" -v flags="$flags" '$4 == "NSEC3" {
            h = tolower($1); sub(/\..*/, "", h)
            if (index(drop, " " h " ")) next
            if (flags != "-") $6 = flags
            print h, $0 }' "$signed" | sort -k1,1 |
        awk '{ h[NR] = $1; $1 = ""; sub(/^ /, ""); l[NR] = $0 }
             END { for (i = 1; i <= NR; i++) {
                     n = split(l[i], f, " "); f[9] = h[i % NR + 1]
                     s = f[1]; for (j = 2; j <= n; j++) s = s " " f[j]
                     print s } }' >"$tmp"
    [ -s "$tmp" ] || fail "no NSEC3 left in $signed"
    sign_nsec3_list "$unsigned" "$tmp" "$origin" "$key" "$signed" \
        >"$tmp.sigs"
    [ "$(wc -l <"$tmp.sigs")" = "$(wc -l <"$tmp")" ] ||
        fail "re-signing the NSEC3s of $origin gave the wrong RRSIG count"
    awk '$4 != "NSEC3" && !($4 == "RRSIG" && $5 == "NSEC3")' "$signed" \
        >"$signed.tmp"
    cat "$tmp" "$tmp.sigs" >>"$signed.tmp"
    mv "$signed.tmp" "$signed"
}

# sign_nsec3_list UNSIGNED NSEC3FILE ORIGIN KEY SIGNED - print one RRSIG
# (by KEY, the world's validity) for each NSEC3 of NSEC3FILE.  Every empty
# non-terminal of SIGNED gets a placeholder TXT record in the input, so
# ldns finds the name its NSEC3 belongs to.
sign_nsec3_list() {
    local in="$2.in" out="$2.out"
    {
        cat "$1"
        awk -v origin="$3" '$4 != "NSEC3" && !($4 == "RRSIG" && \
                $5 == "NSEC3") && $1 !~ /^;/ && NF { have[tolower($1)] = 1 }
            END { for (o in have) {
                    n = o
                    while (length(n) > length(origin) && index(n, ".")) {
                        sub(/^[^.]*\./, "", n)
                        if (!(n in have) && !(n in ent)) ent[n] = 1
                    }
                  }
                  for (n in ent) print n, 300, "IN", "TXT", "\"ent\"" }' "$5"
        cat "$2"
    } >"$in"
    sign "$in" "$out" "$3" "$SIG_INCEPTION" "$SIG_EXPIRATION" "$4"
    awk '$4 == "RRSIG" && $5 == "NSEC3"' "$out"
}

# fake_dnskeys KEYBASE N - N RSASHA256 DNSKEY RRs (zone key flags) whose
# key tag equals KEYBASE's: random 2048-bit moduli, exponent 65537, one
# 16-bit word chosen so the tag sum comes out right (RFC 4034 appendix B).
fake_dnskeys() {
    python3 - "$(key_tag "$1")" "$2" \
        "$(dnskey_of "$1" | awk '{print $1}')" <<'EOF'
import base64, os, sys
tag, n, owner = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def keytag(rdata):
    ac = 0
    for i, b in enumerate(rdata):
        ac += b if i & 1 else b << 8
    ac += (ac >> 16) & 0xFFFF
    return ac & 0xFFFF
made = 0
while made < n:
    mod = bytearray(os.urandom(256))
    mod[0] |= 0x80
    mod[-1] |= 1
    key = bytearray(b"\x03\x01\x00\x01" + bytes(mod))
    key[4] = key[5] = 0  # the free word: key offset 4..5 (rdata 8..9)
    head = (256).to_bytes(2, "big") + bytes([3, 8])
    ac0 = sum(b if i & 1 else b << 8 for i, b in enumerate(head + key))
    for w in range(65536):
        ac = ac0 + w
        if (ac + ((ac >> 16) & 0xFFFF)) & 0xFFFF == tag:
            key[4], key[5] = w >> 8, w & 0xFF
            assert keytag(head + bytes(key)) == tag
            b64 = base64.b64encode(bytes(key)).decode()
            print(owner, "IN DNSKEY 256 3 8", b64)
            made += 1
            break
EOF
}

# fake_rrsigs FILE OWNER TYPE N - N copies of OWNER's RRSIG over TYPE in
# FILE with random signatures of the same length (same key tag).
fake_rrsigs() {
    local line i
    line=$(awk -v o="$2" -v t="$3" '$1 == o && $4 == "RRSIG" && $5 == t {
        print; exit }' "$1")
    [ -n "$line" ] || fail "no RRSIG over $3 at $2 in $1"
    for ((i = 0; i < $4; i++)); do
        awk -v sig="$(head -c 256 /dev/urandom | base64 -w0)" '{
            s = $1; for (j = 2; j <= 12; j++) s = s "\t" $j
            print s "\t" sig }' <<<"$line"
    done
}

# scen_tagged_zone NAME KEY NKEYS NSIGS - write and sign NAME.test. with
# NKEYS extra DNSKEYs sharing KEY's tag, and NSIGS extra RRSIGs with that
# tag over _443._tcp.www ahead of the genuine one.
scen_tagged_zone() {
    local n=$1 key=$2 z="$DIR/zones"
    {
        soa "$n.test."
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata "www.$n.test")"
        # The genuine key is written out: ldns-signzone adds a key's
        # DNSKEY only if none with its tag is in the zone already.
        dnskey_of "$key"
        fake_dnskeys "$key" "$3" ||
            fail "cannot make DNSKEYs with a colliding tag"
    } >"$z/$n.test.zone"
    sign "$z/$n.test.zone" "$z/$n.test.signed" "$n.test." \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$key"
    # No verify_zone: ldns-verify-zone tries only the first key with a
    # signature's tag, so it calls these zones bogus; the differential test
    # checks unbound's verdict instead.
    # The fake RRSIGs first: nsd serves an RRset's records in file order.
    fake_rrsigs "$z/$n.test.signed" "_443._tcp.www.$n.test." TLSA "$4" \
        >"$z/$n.test.fakesigs"
    cat "$z/$n.test.fakesigs" "$z/$n.test.signed" >"$z/$n.test.signed.tmp"
    mv "$z/$n.test.signed.tmp" "$z/$n.test.signed"
}

# scen_iter_zone NAME KEY ITERATIONS NAMES - NAME.test., NSEC3 with
# ITERATIONS hash iterations, a salt and NAMES extra names.
scen_iter_zone() {
    local n=$1 z="$DIR/zones" i
    {
        soa "$n.test."
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata "www.$n.test")"
        for ((i = 0; i < $4; i++)); do
            echo "h$i	IN	A	127.0.0.1"
        done
    } >"$z/$n.test.zone"
    sign "$z/$n.test.zone" "$z/$n.test.signed" "$n.test." \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$2" -n -a 1 -t "$3" -s a1b2c3d4
    verify_zone "$z/$n.test.signed"
}

# scen_skew_zone NAME KEY OFFSET - NAME.test., NSEC, every signature's
# inception OFFSET seconds after now (the world's expiration).
scen_skew_zone() {
    local n=$1 z="$DIR/zones"
    {
        soa "$n.test."
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata "www.$n.test")"
    } >"$z/$n.test.zone"
    sign "$z/$n.test.zone" "$z/$n.test.signed" "$n.test." \
        $(($(date +%s) + $3)) "$SIG_EXPIRATION" "$2"
}

# scen_zones - write, sign and post-process the scenario zones.
scen_zones() {
    local z="$DIR/zones" f i k

    # --- wildcard replay, NSEC and NSEC3 ---
    for f in wcnsec wcnsec3; do
        {
            soa "$f.test."
            echo "www	IN	A	127.0.0.1"
            echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata "www.$f.test")"
            echo "*	IN	TLSA	$(tlsa_rdata "wildcard.$f.test")"
            echo "admin	IN	A	127.0.0.1"
            echo "staff	IN	A	127.0.0.1"
        } >"$z/$f.test.zone"
    done
    sign "$z/wcnsec.test.zone" "$z/wcnsec.test.signed" wcnsec.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$SK_wcnsec"
    sign "$z/wcnsec3.test.zone" "$z/wcnsec3.test.signed" wcnsec3.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$SK_wcnsec3" -n -a 1 -t 0 -s ''
    for f in wcnsec wcnsec3; do
        verify_zone "$z/$f.test.signed"
        scen_copy_rrset "$z/$f.test.signed" "*.$f.test." TLSA \
            "*.admin.$f.test." "_mqtt-client.staff.$f.test." \
            >"$z/$f.test.replay"
        cat "$z/$f.test.replay" >>"$z/$f.test.signed"
    done

    # --- NSEC3 opt-out, and its unsigned child ---
    {
        soa optout.test.
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata www.optout.test)"
        echo "unsigned	IN	NS	ns.test."
        echo "a.ent	IN	NS	ns.test."
        echo "*.wc	IN	TLSA	$(tlsa_rdata wc.optout.test)"
    } >"$z/optout.test.zone"
    sign "$z/optout.test.zone" "$z/optout.test.signed" optout.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$SK_optout" -n -p -a 1 -t 0 -s ''
    resign_nsec3s "$z/optout.test.zone" "$z/optout.test.signed" optout.test. \
        "$SK_optout" - unsigned.optout.test. a.ent.optout.test. \
        ent.optout.test.
    verify_zone "$z/optout.test.signed"
    {
        soa unsigned.optout.test.
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata www.unsigned.optout.test)"
    } >"$z/unsigned.optout.test.zone"

    # --- DNAME ---
    {
        soa dname.test.
        echo "sec	IN	DNAME	www.example.test."
        echo "ins	IN	DNAME	www.insecure.test."
        echo "nx	IN	DNAME	nothere.example.test."
        echo "nd	IN	DNAME	example.test."
        echo "fsec	IN	DNAME	www.example.test."
        echo "loop1	IN	CNAME	loop2.dname.test."
        echo "loop2	IN	CNAME	loop1.dname.test."
    } >"$z/dname.test.zone"
    sign "$z/dname.test.zone" "$z/dname.test.signed" dname.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$SK_dname"
    verify_zone "$z/dname.test.signed"

    # --- NSEC3 with unknown flags (2), re-signed ---
    {
        soa nsec3flags.test.
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata www.nsec3flags.test)"
    } >"$z/nsec3flags.test.zone"
    sign "$z/nsec3flags.test.zone" "$z/nsec3flags.test.signed" \
        nsec3flags.test. "$SIG_INCEPTION" "$SIG_EXPIRATION" \
        "$SK_nsec3flags" -n -a 1 -t 0 -s ''
    resign_nsec3s "$z/nsec3flags.test.zone" "$z/nsec3flags.test.signed" \
        nsec3flags.test. "$SK_nsec3flags" 2
    awk '$4 == "NSEC3" && $6 != 2 { bad = 1 } END { exit bad }' \
        "$z/nsec3flags.test.signed" || fail "an NSEC3 kept its flags"

    # --- parent and child on separate servers ---
    {
        soa split.test.
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata www.split.test)"
    } >"$z/split.test.zone"
    sign "$z/split.test.zone" "$z/split.test.signed" split.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$SK_split"
    verify_zone "$z/split.test.signed"

    # --- colliding key tags: a few (tagclash), KeyTrap-like many ---
    scen_tagged_zone tagclash "$SK_tagclash" "$TAGCLASH_KEYS" "$TAGCLASH_SIGS"
    scen_tagged_zone keytrap "$SK_keytrap" "$KEYTRAP_KEYS" "$KEYTRAP_SIGS"

    # --- NSEC3, many names, high iterations; and at unbound's limit ---
    scen_iter_zone iter "$SK_iter" "$ITER_ITERATIONS" "$ITER_NAMES"
    scen_iter_zone iter150 "$SK_iter150" 150 10

    # --- DS records a validator cannot use; algorithms; digest types ---
    for f in unknownds mixedds $(for k in $SCEN_ALGS $SCEN_DIGESTS; do
        echo "${k%%:*}"; done); do
        k=SK_$f
        {
            soa "$f.test."
            echo "www	IN	A	127.0.0.1"
            echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata "www.$f.test")"
        } >"$z/$f.test.zone"
        if [ "$f" = alg7 ]; then
            # Algorithm 7 is RSASHA1 for NSEC3 zones.
            sign "$z/$f.test.zone" "$z/$f.test.signed" "$f.test." \
                "$SIG_INCEPTION" "$SIG_EXPIRATION" "${!k}" -n -a 1 -t 0 -s ''
        else
            sign "$z/$f.test.zone" "$z/$f.test.signed" "$f.test." \
                "$SIG_INCEPTION" "$SIG_EXPIRATION" "${!k}"
        fi
        verify_zone "$z/$f.test.signed"
    done

    # --- key roll-over, KSK/ZSK split, a DS key that signs nothing ---
    for f in roll kskzsk dsnosig deep a.deep; do
        {
            soa "$f.test."
            echo "www	IN	A	127.0.0.1"
            echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata "www.$f.test")"
            case "$f" in
            # The key the parent's DS names is published, but the DNSKEY
            # RRset is signed by the other key only.
            dsnosig) dnskey_of "$SK_dsnosig" ;;
            deep)
                echo "a	IN	NS	ns.test."
                ds_of "$SK_deep_a"
                ;;
            esac
        } >"$z/$f.test.zone"
    done
    # Both KSKs sign the DNSKEY RRset; the parent has the new one's DS.
    # (sign takes one key.)
    ldns-signzone -o roll.test. -i "$SIG_INCEPTION" -e "$SIG_EXPIRATION" \
        -f "$z/roll.test.signed" "$z/roll.test.zone" "$SK_roll" \
        "$SK_roll_old" >/dev/null || fail "ldns-signzone failed for roll.test."
    ldns-signzone -o kskzsk.test. -i "$SIG_INCEPTION" -e "$SIG_EXPIRATION" \
        -f "$z/kskzsk.test.signed" "$z/kskzsk.test.zone" "$SK_kskzsk" \
        "$SK_kskzsk_zsk" >/dev/null ||
        fail "ldns-signzone failed for kskzsk.test."
    sign "$z/dsnosig.test.zone" "$z/dsnosig.test.signed" dsnosig.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$SK_dsnosig_b"
    sign "$z/deep.test.zone" "$z/deep.test.signed" deep.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$SK_deep"
    sign "$z/a.deep.test.zone" "$z/a.deep.test.signed" a.deep.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$SK_deep_a"
    for f in roll kskzsk dsnosig deep a.deep; do
        verify_zone "$z/$f.test.signed"
    done
    awk '$4 == "RRSIG" && $5 == "DNSKEY" { n++ } END { exit n != 2 }' \
        "$z/roll.test.signed" || fail "roll.test. DNSKEY not signed twice"
    awk '$4 == "RRSIG" && $5 == "A" { n++ } END { exit n != 1 }' \
        "$z/kskzsk.test.signed" || fail "kskzsk.test. A not signed once"

    # --- signatures from the near and the far future (clock skew) ---
    scen_skew_zone skew "$SK_skew" "$SKEW_NEAR"
    scen_skew_zone skewhours "$SK_skewhours" "$SKEW_HOURS"
    scen_skew_zone future "$SK_future" "$SKEW_FAR"
}

# scen_unbound_conf NSD_PORT PROXY_NSD_PORT NSD2_PORT - unbound.conf lines
# for scenario mode.  unbound must see exactly the answers `dance lookup`
# sees: a stub for every scenario zone to the same nsd (split.test. to the
# second nsd only, whose address dance is given first), the proxy's
# servfail and garbage names and fsec.dname.test. (the retarget case)
# through the same proxy, and no answers made
# from its cache instead of asking (aggressive NSEC use, RFC 8198, would
# answer a replayed name from an NSEC cached earlier) nor qname
# minimisation (dance asks for the full name).
scen_unbound_conf() {
    local zn
    for zn in $SCEN_ZONES; do
        printf 'stub-zone:\n\tname: "%s."\n' "$zn"
        printf '\tstub-addr: 127.0.0.1@%s\n\tstub-prime: no\n' "$1"
    done
    printf 'stub-zone:\n\tname: "%s."\n' "$SCEN_SPLIT_ZONE"
    printf '\tstub-addr: 127.0.0.1@%s\n\tstub-prime: no\n' "$3"
    for zn in servfail.example.test garbage.example.test fsec.dname.test; do
        printf 'stub-zone:\n\tname: "%s."\n' "$zn"
        printf '\tstub-addr: 127.0.0.1@%s\n\tstub-prime: no\n' "$2"
    done
    printf 'server:\n\taggressive-nsec: no\n\tqname-minimisation: no\n'
}
