/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_update.c - RFC 2136 updates with TSIG, in batches, and waiting for
 * the result to be visible and secure (see dance_update.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dance_update.h"

/* Bound on the size of one update message (before TSIG), in octets. */
#define UPD_MAX_BYTES 16384

typedef struct {
    ldns_rdf *owner;   /* owned */
    char text[260];    /* presentation form, no trailing dot */
    ldns_rr_list *rrs; /* owned; the records given (may be empty) */
    int whole;         /* REMOVE: the whole TLSA RRset */
    dance_upd_state state;
    unsigned msg; /* 1-based update message number */
    double after; /* seconds from the send until seen secure */
    char why[400];
} upd_name;

struct dance_upd {
    ldns_rdf *zone; /* owned */
    char zone_text[260];
    dance_upd_op op;
    upd_name *v;
    size_t n, cap;
    double sent_at; /* monotonic time the last message was answered */
};

/* now_mono - monotonic seconds. */
static double now_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* dance_upd_state_str - see dance_update.h. */
const char *dance_upd_state_str(dance_upd_state st)
{
    switch (st) {
    case DANCE_UPD_PENDING:
        return "NOT changed (not sent)";
    case DANCE_UPD_NOT_SENT:
        return "NOT changed (not sent: an earlier update failed)";
    case DANCE_UPD_REJECTED:
        return "NOT changed (its update was refused or not delivered)";
    case DANCE_UPD_UNKNOWN:
        return "UNKNOWN (no authentic answer: may or may not be changed)";
    case DANCE_UPD_APPLIED:
        return "changed (applied by the primary)";
    case DANCE_UPD_VISIBLE:
        return "changed, visible and secure";
    case DANCE_UPD_NOT_VISIBLE:
        return "changed, but NOT yet visible as secure";
    }
    return "?";
}

/* --- TSIG keys ----------------------------------------------------------- */

/*
 * set_alg - the ldns name of algorithm a into k->alg; 0, or -1 with a
 * message.  ldns 1.8 signs with md5, sha1, sha256 and sha512 only.
 */
static int set_alg(dance_tsig *k, const char *a, char *err, size_t errlen)
{
    static const char *const algs[][2] = {
        {"hmac-sha256", "hmac-sha256."},
        {"hmac-sha512", "hmac-sha512."},
        {"hmac-sha1", "hmac-sha1."},
        {"hmac-md5", "hmac-md5.sig-alg.reg.int."},
        {"hmac-md5.sig-alg.reg.int", "hmac-md5.sig-alg.reg.int."}};
    size_t len = strlen(a);

    if (len > 0 && a[len - 1] == '.')
        len--;
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        if (strlen(algs[i][0]) == len && strncasecmp(a, algs[i][0], len) == 0) {
            snprintf(k->alg, sizeof(k->alg), "%s", algs[i][1]);
            return 0;
        }
    snprintf(err, errlen,
             "TSIG algorithm '%s' is not supported (hmac-sha256, "
             "hmac-sha512, hmac-sha1, hmac-md5)",
             a);
    return -1;
}

/* set_name - k->name = name with one trailing dot; 0 or -1. */
static int set_name(dance_tsig *k, const char *name, size_t len, char *err,
                    size_t errlen)
{
    ldns_rdf *rdf = NULL;

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len + 2 > sizeof(k->name)) {
        snprintf(err, errlen, "the TSIG key name is empty or too long");
        return -1;
    }
    snprintf(k->name, sizeof(k->name), "%.*s.", (int)len, name);
    if (ldns_str2rdf_dname(&rdf, k->name) != LDNS_STATUS_OK) {
        snprintf(err, errlen, "the TSIG key name '%s' is not a domain name",
                 k->name);
        return -1;
    }
    ldns_rdf_deep_free(rdf);
    return 0;
}

/* set_secret - k->secret = s if it is base64 of at least one octet. */
static int set_secret(dance_tsig *k, const char *s, char *err, size_t errlen)
{
    size_t len = strlen(s);

    if (len == 0 || len >= sizeof(k->secret) ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "0123456789+/=") != len) {
        snprintf(err, errlen, "the TSIG secret is not base64");
        return -1;
    }
    memcpy(k->secret, s, len + 1);
    return 0;
}

/* dance_tsig_parse_arg - see dance_update.h. */
int dance_tsig_parse_arg(const char *arg, dance_tsig *k, char *err,
                         size_t errlen)
{
    const char *c1 = strchr(arg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char alg[64];

    memset(k, 0, sizeof(*k));
    if (c1 == NULL) {
        snprintf(err, errlen, "-y wants [ALG:]NAME:SECRET");
        return -1;
    }
    if (c2 == NULL) {
        if (set_alg(k, "hmac-sha256", err, errlen) != 0 ||
            set_name(k, arg, (size_t)(c1 - arg), err, errlen) != 0)
            return -1;
        return set_secret(k, c1 + 1, err, errlen);
    }
    if ((size_t)(c1 - arg) >= sizeof(alg)) {
        snprintf(err, errlen, "the TSIG algorithm name is too long");
        return -1;
    }
    snprintf(alg, sizeof(alg), "%.*s", (int)(c1 - arg), arg);
    if (set_alg(k, alg, err, errlen) != 0 ||
        set_name(k, c1 + 1, (size_t)(c2 - c1 - 1), err, errlen) != 0)
        return -1;
    return set_secret(k, c2 + 1, err, errlen);
}

/* dance_tsig_load - see dance_update.h. */
int dance_tsig_load(const char *path, dance_tsig *k, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char buf[8192], *tok[512], *save = NULL, *t;
    const char *name = NULL, *alg = NULL, *secret = NULL;
    size_t len, n = 0;

    memset(k, 0, sizeof(*k));
    if (f == NULL) {
        snprintf(err, errlen, "cannot open TSIG key file %s: %s", path,
                 strerror(errno));
        return -1;
    }
    len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    /* Both formats split into words on blanks and { } ; : " (a comment
     * line starts with # or //). */
    for (char *line = buf; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        char *p = line;

        if (nl != NULL)
            *nl = '\0';
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '#' || (p[0] == '/' && p[1] == '/'))
            *p = '\0';
        for (t = strtok_r(p, " \t\r{};:\"", &save); t != NULL && n < 512;
             t = strtok_r(NULL, " \t\r{};:\"", &save))
            tok[n++] = t;
        line = nl ? nl + 1 : NULL;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        if (strcmp(tok[i], "key") == 0 && name == NULL &&
            strcmp(tok[i + 1], "-") != 0 && strcmp(tok[i + 1], "id") != 0)
            name = tok[i + 1];
        else if (strcmp(tok[i], "id") == 0 && name == NULL)
            name = tok[i + 1];
        else if (strcmp(tok[i], "algorithm") == 0 && alg == NULL)
            alg = tok[i + 1];
        else if (strcmp(tok[i], "secret") == 0 && secret == NULL)
            secret = tok[i + 1];
    }
    if (name == NULL || alg == NULL || secret == NULL) {
        snprintf(err, errlen,
                 "%s is not a TSIG key file (BIND: key \"NAME\" { algorithm "
                 "A; secret \"S\"; };  Knot: key: - id: NAME algorithm: A "
                 "secret: S)",
                 path);
        return -1;
    }
    if (set_alg(k, alg, err, errlen) != 0 ||
        set_name(k, name, strlen(name), err, errlen) != 0 ||
        set_secret(k, secret, err, errlen) != 0)
        return -1;
    return 0;
}

/* --- the job ------------------------------------------------------------- */

/* dance_upd_new - see dance_update.h. */
dance_upd *dance_upd_new(const char *zone, dance_upd_op op)
{
    dance_upd *u = calloc(1, sizeof(*u));
    size_t len = strlen(zone);

    if (u == NULL)
        return NULL;
    if (len > 0 && zone[len - 1] == '.')
        len--;
    if (len == 0 || len >= sizeof(u->zone_text)) {
        free(u);
        return NULL;
    }
    snprintf(u->zone_text, sizeof(u->zone_text), "%.*s", (int)len, zone);
    u->zone = ldns_dname_new_frm_str(u->zone_text);
    if (u->zone == NULL) {
        free(u);
        return NULL;
    }
    ldns_dname2canonical(u->zone);
    u->op = op;
    return u;
}

/* dance_upd_free - see dance_update.h. */
void dance_upd_free(dance_upd *u)
{
    if (u == NULL)
        return;
    for (size_t i = 0; i < u->n; i++) {
        ldns_rdf_deep_free(u->v[i].owner);
        ldns_rr_list_deep_free(u->v[i].rrs);
    }
    free(u->v);
    ldns_rdf_deep_free(u->zone);
    free(u);
}

/* dance_upd_name_count - see dance_update.h. */
size_t dance_upd_name_count(const dance_upd *u)
{
    return u->n;
}

/* find_name - the entry for owner, or NULL. */
static upd_name *find_name(dance_upd *u, const ldns_rdf *owner)
{
    for (size_t i = u->n; i > 0; i--)
        if (ldns_dname_compare(u->v[i - 1].owner, owner) == 0)
            return &u->v[i - 1];
    return NULL;
}

/* dance_upd_add_rr - see dance_update.h. */
int dance_upd_add_rr(dance_upd *u, ldns_rr *rr, char *err, size_t errlen)
{
    ldns_rdf *owner = ldns_rr_owner(rr);
    upd_name *e;
    char *text;

    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA) {
        snprintf(err, errlen, "only TLSA records are published");
        goto err;
    }
    ldns_dname2canonical(owner);
    if (!ldns_dname_is_subdomain(owner, u->zone)) {
        text = ldns_rdf2str(owner);
        snprintf(err, errlen, "%s is not inside zone %s. (nothing was sent)",
                 text ? text : "?", u->zone_text);
        free(text);
        goto err;
    }
    if (ldns_rr_rd_count(rr) == 0 && u->op != DANCE_UPD_REMOVE) {
        snprintf(err, errlen, "a record without data only goes with remove");
        goto err;
    }
    e = find_name(u, owner);
    if (e == NULL) {
        if (u->n == u->cap) {
            size_t cap = u->cap ? u->cap * 2 : 256;
            upd_name *v = realloc(u->v, cap * sizeof(*v));

            if (v == NULL)
                goto nomem;
            u->v = v;
            u->cap = cap;
        }
        e = &u->v[u->n];
        memset(e, 0, sizeof(*e));
        e->rrs = ldns_rr_list_new();
        e->owner = ldns_rdf_clone(owner);
        text = ldns_rdf2str(owner);
        if (e->rrs == NULL || e->owner == NULL || text == NULL) {
            free(text);
            ldns_rr_list_deep_free(e->rrs);
            ldns_rdf_deep_free(e->owner);
            goto nomem;
        }
        snprintf(e->text, sizeof(e->text), "%s", text);
        free(text);
        if (e->text[0] != '\0' && e->text[strlen(e->text) - 1] == '.')
            e->text[strlen(e->text) - 1] = '\0';
        u->n++;
    }
    if (ldns_rr_rd_count(rr) == 0) {
        e->whole = 1;
        ldns_rr_free(rr);
        return 0;
    }
    if (!ldns_rr_list_push_rr(e->rrs, rr))
        goto nomem;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
err:
    ldns_rr_free(rr);
    return -1;
}

/* dance_upd_max_ttl - see dance_update.h. */
uint32_t dance_upd_max_ttl(const dance_upd *u)
{
    uint32_t max = 0;

    for (size_t i = 0; i < u->n; i++)
        for (size_t j = 0; j < ldns_rr_list_rr_count(u->v[i].rrs); j++)
            if (ldns_rr_ttl(ldns_rr_list_rr(u->v[i].rrs, j)) > max)
                max = ldns_rr_ttl(ldns_rr_list_rr(u->v[i].rrs, j));
    return max;
}

/* --- sending ------------------------------------------------------------- */

/* rrset_delete - "delete the TLSA RRset of owner" (class ANY, no data). */
static ldns_rr *rrset_delete(const ldns_rdf *owner)
{
    ldns_rr *rr = ldns_rr_new();

    if (rr == NULL)
        return NULL;
    ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
    ldns_rr_set_type(rr, LDNS_RR_TYPE_TLSA);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_ANY);
    ldns_rr_set_ttl(rr, 0);
    return rr;
}

/*
 * name_updates - append the update-section records of e to list (as the
 * job's op says).  0, or -1 when memory runs out.
 */
static int name_updates(const dance_upd *u, const upd_name *e,
                        ldns_rr_list *list)
{
    if (u->op == DANCE_UPD_REPLACE || (u->op == DANCE_UPD_REMOVE && e->whole)) {
        ldns_rr *del = rrset_delete(e->owner);

        if (del == NULL || !ldns_rr_list_push_rr(list, del)) {
            ldns_rr_free(del);
            return -1;
        }
        if (u->op == DANCE_UPD_REMOVE)
            return 0;
    }
    for (size_t j = 0; j < ldns_rr_list_rr_count(e->rrs); j++) {
        ldns_rr *rr = ldns_rr_clone(ldns_rr_list_rr(e->rrs, j));

        if (rr == NULL)
            return -1;
        if (u->op == DANCE_UPD_REMOVE) { /* delete this RR: class NONE */
            ldns_rr_set_class(rr, LDNS_RR_CLASS_NONE);
            ldns_rr_set_ttl(rr, 0);
        }
        if (!ldns_rr_list_push_rr(list, rr)) {
            ldns_rr_free(rr);
            return -1;
        }
    }
    return 0;
}

/* rcode_meaning - why the primary said rcode, for an operator. */
static const char *rcode_meaning(int rcode, int tsig_error)
{
    switch (rcode) {
    case LDNS_RCODE_NOTAUTH:
        if (tsig_error == 16)
            return "NOTAUTH/BADSIG: the TSIG secret is wrong";
        if (tsig_error == 17)
            return "NOTAUTH/BADKEY: the primary does not know this TSIG key "
                   "(name, algorithm) or does not let it update this zone";
        if (tsig_error == 18)
            return "NOTAUTH/BADTIME: the clocks of this host and the primary "
                   "differ by more than the fudge (300 s)";
        return "NOTAUTH: the server is not authoritative for the zone, or "
               "does not allow this key to update it";
    case LDNS_RCODE_REFUSED:
        return "REFUSED: the primary refuses updates to this zone from this "
               "key or address (policy/ACL)";
    case LDNS_RCODE_NOTZONE:
        return "NOTZONE: a name is outside the zone";
    case LDNS_RCODE_SERVFAIL:
        return "SERVFAIL: the primary failed to apply it";
    case LDNS_RCODE_FORMERR:
        return "FORMERR: the primary could not parse the update";
    case LDNS_RCODE_NOTIMPL:
        return "NOTIMP: the server does not implement dynamic update";
    }
    return "an error";
}

/*
 * tcp_reachable - 0 if a TCP connection to ip:port opens within
 * timeout_ms; else -1 with the reason in why.  A connection that cannot
 * be opened carries no update, so the caller knows nothing was applied
 * (ldns's own send cannot tell a refused connection from a lost answer).
 */
static int tcp_reachable(const char *ip, unsigned port, unsigned timeout_ms,
                         char *why, size_t whylen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    struct pollfd pfd;
    int fd, err = 0, rc = -1;
    socklen_t elen = sizeof(err);

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, ip,
                         &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        len = sizeof(struct sockaddr_in6);
    } else {
        snprintf(why, whylen, "'%s' is not an IP address", ip);
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(why, whylen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
        rc = 0;
    } else if (errno == EINPROGRESS) {
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, (int)timeout_ms) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0)
            rc = 0;
        else if (err == 0)
            err = ETIMEDOUT;
    } else {
        err = errno;
    }
    if (rc != 0)
        snprintf(why, whylen,
                 "cannot connect to %s port %u over TCP (%s): nothing was "
                 "sent",
                 ip, port, strerror(err));
    close(fd);
    return rc;
}

/*
 * send_one - send one update message; APPLIED, REJECTED or UNKNOWN with
 * the reason in why.
 */
static dance_upd_state send_one(const dance_upd *u, const ldns_rr_list *ups,
                                const char *primary, const dance_tsig *key,
                                unsigned timeout_ms, char *why, size_t whylen)
{
    ldns_resolver *r = ldns_resolver_new();
    ldns_pkt *pkt = NULL, *ans = NULL;
    ldns_rdf *ns = NULL, *zone = NULL;
    dance_upd_state st = DANCE_UPD_UNKNOWN;
    char ip[64];
    const char *at = strchr(primary, '@');
    unsigned long port = 53;
    struct timeval tv;
    ldns_status s;

    if (r == NULL)
        goto nomem;
    snprintf(ip, sizeof(ip), "%.*s",
             (int)(at ? (size_t)(at - primary) : strlen(primary)), primary);
    if (at != NULL)
        port = strtoul(at + 1, NULL, 10);
    ns = ldns_rdf_new_frm_str(
        strchr(ip, ':') ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, ip);
    if (ns == NULL || port == 0 || port > 65535) {
        snprintf(why, whylen, "bad primary address '%s' (want IP[@PORT])",
                 primary);
        st = DANCE_UPD_REJECTED;
        goto out;
    }
    if (tcp_reachable(ip, (unsigned)port, timeout_ms, why, whylen) != 0) {
        st = DANCE_UPD_REJECTED;
        goto out;
    }
    ldns_resolver_push_nameserver(r, ns);
    ldns_resolver_set_port(r, (uint16_t)port);
    ldns_resolver_set_usevc(r, true);
    ldns_resolver_set_retry(r, 1);
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    ldns_resolver_set_timeout(r, tv);
    ldns_resolver_set_tsig_keyname(r, key->name);
    ldns_resolver_set_tsig_keydata(r, key->secret);
    ldns_resolver_set_tsig_algorithm(r, key->alg);
    zone = ldns_rdf_clone(u->zone);
    if (zone == NULL)
        goto nomem;
    pkt = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, NULL, ups, NULL);
    if (pkt == NULL)
        goto nomem;
    ldns_pkt_set_rd(pkt, false);
    ldns_pkt_set_random_id(pkt);
    s = ldns_update_pkt_tsig_add(pkt, r);
    if (s != LDNS_STATUS_OK) {
        snprintf(why, whylen, "cannot sign with the TSIG key: %s",
                 ldns_get_errorstr_by_id(s));
        st = DANCE_UPD_REJECTED;
        goto out;
    }
    s = ldns_send(&ans, r, pkt); /* keeps an answer whose TSIG fails */
    if (ans == NULL) {
        snprintf(why, whylen, "no answer from %s: %s", primary,
                 ldns_get_errorstr_by_id(s));
        goto out;
    }
    if (ldns_pkt_get_rcode(ans) != LDNS_RCODE_NOERROR) {
        ldns_rr *t = ldns_pkt_tsig(ans);
        int terr = -1;

        if (t != NULL && ldns_rr_rd_count(t) > 5)
            terr = ldns_rdf2native_int16(ldns_rr_rdf(t, 5));
        snprintf(why, whylen, "%s",
                 rcode_meaning(ldns_pkt_get_rcode(ans), terr));
        st = DANCE_UPD_REJECTED;
        goto out;
    }
    if (s != LDNS_STATUS_OK) {
        snprintf(why, whylen,
                 "the answer is not authentic (%s): cannot tell whether the "
                 "primary applied it",
                 ldns_get_errorstr_by_id(s));
        goto out;
    }
    snprintf(why, whylen, "applied");
    st = DANCE_UPD_APPLIED;
    goto out;
nomem:
    snprintf(why, whylen, "out of memory");
    st = DANCE_UPD_REJECTED;
out:
    ldns_pkt_free(ans);
    ldns_pkt_free(pkt);
    ldns_rdf_deep_free(ns);
    ldns_resolver_deep_free(r);
    return st;
}

/* dance_upd_send - see dance_update.h. */
int dance_upd_send(dance_upd *u, const char *primary, const dance_tsig *key,
                   unsigned max_rrs, unsigned timeout_ms, FILE *log)
{
    size_t i = 0, nmsg = 0;
    int failed = 0, notapplied = 0;

    while (i < u->n) {
        ldns_rr_list *ups = ldns_rr_list_new();
        size_t first = i, bytes = 0;
        dance_upd_state st;
        char why[300];

        if (ups == NULL)
            return notapplied + 1;
        /* Whole names only: an owner's change is never split. */
        while (i < u->n) {
            size_t before = ldns_rr_list_rr_count(ups), add_bytes = 0;

            if (name_updates(u, &u->v[i], ups) != 0) {
                ldns_rr_list_deep_free(ups);
                fprintf(log, "out of memory\n");
                return notapplied + 1;
            }
            for (size_t j = before; j < ldns_rr_list_rr_count(ups); j++)
                add_bytes += ldns_rr_uncompressed_size(ldns_rr_list_rr(ups, j));
            if (i > first && (ldns_rr_list_rr_count(ups) > max_rrs ||
                              bytes + add_bytes > UPD_MAX_BYTES)) {
                while (ldns_rr_list_rr_count(ups) > before)
                    ldns_rr_free(ldns_rr_list_pop_rr(ups));
                break;
            }
            bytes += add_bytes;
            i++;
        }
        nmsg++;
        if (failed) {
            st = DANCE_UPD_NOT_SENT;
            snprintf(why, sizeof(why), "not sent: an earlier update failed");
        } else {
            st = send_one(u, ups, primary, key, timeout_ms, why, sizeof(why));
            fprintf(log,
                    "update %zu (%zu names, %zu records, %zu octets): %s\n",
                    nmsg, i - first, ldns_rr_list_rr_count(ups), bytes, why);
            if (st != DANCE_UPD_APPLIED) {
                failed = 1;
                fprintf(log,
                        "update %zu was not applied; an update is atomic "
                        "(RFC 2136 3.7), so none of its %zu names changed%s\n",
                        nmsg, i - first,
                        st == DANCE_UPD_UNKNOWN
                            ? " - unless the primary applied it and the "
                              "answer was lost"
                            : "");
            }
        }
        for (size_t k = first; k < i; k++) {
            u->v[k].state = st;
            u->v[k].msg = (unsigned)nmsg;
            snprintf(u->v[k].why, sizeof(u->v[k].why), "update %zu: %s", nmsg,
                     why);
        }
        ldns_rr_list_deep_free(ups);
        if (st != DANCE_UPD_APPLIED)
            notapplied++;
    }
    u->sent_at = now_mono();
    return notapplied;
}

/* --- waiting ------------------------------------------------------------- */

/* rdata_equal - 1 if a and b have the same RDATA. */
static int rdata_equal(const ldns_rr *a, const ldns_rr *b)
{
    if (ldns_rr_rd_count(a) != ldns_rr_rd_count(b))
        return 0;
    for (size_t i = 0; i < ldns_rr_rd_count(a); i++)
        if (ldns_rdf_compare(ldns_rr_rdf(a, i), ldns_rr_rdf(b, i)) != 0)
            return 0;
    return 1;
}

/* has_rdata - 1 if list holds a record with the RDATA of rr. */
static int has_rdata(const ldns_rr_list *list, const ldns_rr *rr)
{
    for (size_t i = 0; list != NULL && i < ldns_rr_list_rr_count(list); i++)
        if (rdata_equal(ldns_rr_list_rr(list, i), rr))
            return 1;
    return 0;
}

/*
 * name_done - 1 if the result r shows e's change, secure; else 0 with the
 * reason in e->why.
 */
static int name_done(const dance_upd *u, upd_name *e, dance_res_result *r)
{
    dance_res_status st = dance_res_result_status(r);
    ldns_rr_list *have = dance_res_result_get1_rrset(r);
    size_t nhave = have ? ldns_rr_list_rr_count(have) : 0;
    int absent =
        st == DANCE_RES_SECURE_NODATA || st == DANCE_RES_SECURE_NXDOMAIN;
    int ok = 0;

    if (!dance_res_status_is_secure(st)) {
        snprintf(e->why, sizeof(e->why), "lookup: %s (%s)",
                 dance_res_status_str(st), dance_res_result_get0_why(r));
        goto out;
    }
    if (u->op == DANCE_UPD_REMOVE) {
        /* Whole RRset: proven absent.  Records: absent or none left. */
        ok = absent || (!e->whole && st == DANCE_RES_SECURE);
        for (size_t j = 0; ok && !absent && j < ldns_rr_list_rr_count(e->rrs);
             j++)
            if (has_rdata(have, ldns_rr_list_rr(e->rrs, j)))
                ok = 0;
        if (!ok)
            snprintf(e->why, sizeof(e->why),
                     "lookup: secure, but the removed record%s still there",
                     e->whole ? "s are" : " is");
        goto out;
    }
    ok = st == DANCE_RES_SECURE;
    for (size_t j = 0; ok && j < ldns_rr_list_rr_count(e->rrs); j++)
        if (!has_rdata(have, ldns_rr_list_rr(e->rrs, j)))
            ok = 0;
    if (ok && u->op == DANCE_UPD_REPLACE &&
        nhave != ldns_rr_list_rr_count(e->rrs))
        ok = 0;
    if (!ok)
        snprintf(e->why, sizeof(e->why),
                 "lookup: %s, %zu record(s), not yet the published ones",
                 dance_res_status_str(st), nhave);
out:
    ldns_rr_list_deep_free(have);
    return ok;
}

/* dance_upd_wait - see dance_update.h. */
size_t dance_upd_wait(dance_upd *u, dance_res *res, unsigned wait_s)
{
    double deadline = now_mono() + wait_s;
    size_t pending;

    for (;;) {
        pending = 0;
        for (size_t i = 0; i < u->n; i++) {
            upd_name *e = &u->v[i];
            dance_res_result *r;

            if (e->state != DANCE_UPD_APPLIED &&
                e->state != DANCE_UPD_NOT_VISIBLE)
                continue;
            r = dance_res_refresh(res, e->text, LDNS_RR_TYPE_TLSA, time(NULL));
            if (r != NULL && name_done(u, e, r)) {
                e->state = DANCE_UPD_VISIBLE;
                e->after = now_mono() - u->sent_at;
                snprintf(e->why, sizeof(e->why), "seen secure after %.1f s",
                         e->after);
            } else {
                e->state = DANCE_UPD_NOT_VISIBLE;
                pending++;
            }
            dance_res_result_free(r);
        }
        if (pending == 0 || now_mono() >= deadline)
            break;
        usleep(250 * 1000);
    }
    return pending;
}

/* dance_upd_report - see dance_update.h. */
int dance_upd_report(const dance_upd *u, FILE *out, int waited)
{
    size_t count[DANCE_UPD_NOT_VISIBLE + 1] = {0};
    int rc = 0;

    for (size_t i = 0; i < u->n; i++) {
        const upd_name *e = &u->v[i];

        count[e->state]++;
        fprintf(out, "%s: %s (%s)\n", e->text, dance_upd_state_str(e->state),
                e->why);
    }
    fprintf(out,
            "summary: %zu names; %zu changed and secure, %zu changed but not "
            "seen secure, %zu changed (not waited for), %zu NOT changed, %zu "
            "unknown\n",
            u->n, count[DANCE_UPD_VISIBLE], count[DANCE_UPD_NOT_VISIBLE],
            count[DANCE_UPD_APPLIED],
            count[DANCE_UPD_PENDING] + count[DANCE_UPD_NOT_SENT] +
                count[DANCE_UPD_REJECTED],
            count[DANCE_UPD_UNKNOWN]);
    (void)waited;
    if (count[DANCE_UPD_NOT_VISIBLE] > 0)
        rc = 3;
    if (count[DANCE_UPD_PENDING] + count[DANCE_UPD_NOT_SENT] +
            count[DANCE_UPD_REJECTED] >
        0)
        rc = 2;
    if (count[DANCE_UPD_UNKNOWN] > 0)
        rc = 4;
    return rc;
}
