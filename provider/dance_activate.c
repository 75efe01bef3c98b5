/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_activate.c - the activation checks the provider and
 * `dance check-config` share (see dance_activate.h).
 */
#include "dance_activate.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "dance_ext.h"
#include "dance_msg.h"
#include "dance_name.h"
#include "dance_rpk.h"

/* skip_dot - a providers entry "x.name" names provider "name", as
 * libcrypto reads it. */
static const char *skip_dot(const char *name)
{
    const char *p = strchr(name, '.');

    return p != NULL ? p + 1 : name;
}

/* section_value - the value of name in section sect only (NCONF_get_string
 * would fall back to the default section, which libcrypto does not do for
 * a provider's keys), or NULL. */
static const char *section_value(const CONF *conf, const char *sect,
                                 const char *name)
{
    STACK_OF(CONF_VALUE) *values = NCONF_get_section(conf, sect);
    const char *found = NULL;

    for (int i = 0; values != NULL && i < sk_CONF_VALUE_num(values); i++) {
        const CONF_VALUE *v = sk_CONF_VALUE_value(values, i);

        if (strcmp(v->name, name) == 0)
            found = v->value;
    }
    return found;
}

/* dance_activate_core_value - see header. */
const char *dance_activate_core_value(const CONF *conf, const char *sect,
                                      const char *key)
{
    const char *v = section_value(conf, sect, key);
    const char *sub = NULL;

    if (v != NULL) {
        ERR_set_mark();
        sub = NCONF_get_section(conf, v) != NULL ? v : NULL;
        ERR_pop_to_mark();
    }
    return sub != NULL ? NULL : v;
}

/* dance_activate_activates - see header. */
int dance_activate_activates(const CONF *conf, const char *sect)
{
    static const char *const yes[] = {"1",    "yes", "YES", "true",
                                      "TRUE", "on",  "ON",  NULL};
    const char *v = section_value(conf, sect, "activate");

    if (v == NULL)
        return 0;
    if (OpenSSL_version_num() < 0x30200000L)
        return 1;
    for (size_t i = 0; yes[i] != NULL; i++)
        if (strcmp(v, yes[i]) == 0)
            return 1;
    return 0;
}

/* dance_activate_find_section - see header. */
const char *dance_activate_find_section(const CONF *conf, const char *prov_name)
{
    const char *init, *provs;
    STACK_OF(CONF_VALUE) * entries;

    ERR_set_mark();
    init = NCONF_get_string(conf, NULL, "openssl_conf");
    provs = init != NULL ? NCONF_get_string(conf, init, "providers") : NULL;
    entries = provs != NULL ? NCONF_get_section(conf, provs) : NULL;
    ERR_pop_to_mark();
    for (int i = 0; entries != NULL && i < sk_CONF_VALUE_num(entries); i++) {
        const CONF_VALUE *e = sk_CONF_VALUE_value(entries, i);
        const char *identity = section_value(conf, e->value, "identity");
        const char *name = identity != NULL ? identity : skip_dot(e->name);

        if (strcmp(name, prov_name) == 0 &&
            NCONF_get_section(conf, e->value) != NULL)
            return e->value;
    }
    return NULL;
}

/* dance_activate_known_key - see header. */
int dance_activate_known_key(const char *key)
{
    static const char *const core_keys[] = {"module", "activate", "identity",
                                            "soft_load", NULL};

    for (size_t i = 0; core_keys[i] != NULL; i++)
        if (strcmp(key, core_keys[i]) == 0)
            return 1;
    return dance_config_key_find(key) != NULL;
}

/* dance_activate_unknown_key - see header. */
const char *dance_activate_unknown_key(const CONF *conf, const char *sect)
{
    STACK_OF(CONF_VALUE) *values = NCONF_get_section(conf, sect);

    for (int i = 0; values != NULL && i < sk_CONF_VALUE_num(values); i++) {
        const CONF_VALUE *v = sk_CONF_VALUE_value(values, i);

        if (!dance_activate_known_key(v->name))
            return v->name;
    }
    return NULL;
}

/* dance_activate_unknown_key_error - see header. */
void dance_activate_unknown_key_error(const char *key, const char *sect,
                                      const char *path, char *err,
                                      size_t errlen)
{
    dance_msg(err, errlen,
              "unknown key '%s' in [%s] of %s (a misspelling would "
              "silently drop a setting)",
              key, sect, path);
}

/* dance_activate_check_settings - see header. */
int dance_activate_check_settings(const dance_config *cfg, char *err,
                                  size_t errlen)
{
    char why[400];

    if (!dance_ext_type_usable(cfg->extension_type))
        return DANCE_FAIL(0, err, errlen,
                          "extension_type = %u is an extension libssl "
                          "handles itself (choose another, e.g. 65293)",
                          cfg->extension_type);
    /* issue 10: raw keys need OpenSSL >= 3.2 at build and at run time */
    if (cfg->raw_public_keys != DANCE_RAW_PUBLIC_KEYS_OFF &&
        !dance_rpk_supported(why, sizeof(why)))
        return DANCE_FAIL(0, err, errlen, "raw_public_keys = %s: %s",
                          cfg->raw_public_keys == DANCE_RAW_PUBLIC_KEYS_ACCEPT
                              ? "accept"
                              : "prefer",
                          why);
    return 1;
}

/* dance_activate_resolver - see header. */
dance_res *dance_activate_resolver(const dance_config *cfg, char *err,
                                   size_t errlen)
{
    dance_res_config rc;
    dance_res *res;
    char msg[400];

    dance_config_resolver(cfg, &rc);
    res = dance_res_new(&rc, msg, sizeof(msg));
    if (res == NULL)
        dance_msg(err, errlen, "dnssec, trust_anchor or nameservers: %s", msg);
    return res;
}

/* ---- prewarm_file ---------------------------------------------------- */

/* What read_line found. */
typedef enum { LINE_OK, LINE_EOF, LINE_LONG, LINE_NUL, LINE_ERROR } line_status;

/* read_line - the next line of fp, without its newline, into buf (len
 * bytes, terminated); a line that does not fit, or holds a NUL byte (which
 * would cut the name short unseen), is refused. */
static line_status read_line(FILE *fp, char *buf, size_t len)
{
    size_t used = 0;
    int c, nul = 0;

    while ((c = getc(fp)) != EOF && c != '\n') {
        if (used + 1 >= len)
            return LINE_LONG;
        nul |= c == '\0';
        buf[used++] = (char)c;
    }
    buf[used] = '\0';
    if (c == EOF && ferror(fp))
        return LINE_ERROR;
    if (c == EOF && used == 0)
        return LINE_EOF;
    return nul ? LINE_NUL : LINE_OK;
}

/* trim - the name on line: up to a '#', blanks around it cut off. */
static char *trim(char *line)
{
    char *end;

    line[strcspn(line, "#")] = '\0';
    while (isspace((unsigned char)*line))
        line++;
    end = line + strlen(line);
    while (end > line && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return line;
}

/* printable - s for a message: bytes other than printable ASCII as '?'
 * (an operator's file must not put control characters into logs), cut
 * to len bytes. Returns out. */
static const char *printable(const char *s, char *out, size_t len)
{
    size_t i = 0;

    for (; s[i] != '\0' && i + 1 < len; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[i] = '\0';
    return out;
}

/* owner_cmp - qsort order of owners: DNS names compare without case. */
static int owner_cmp(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* dedupe - sort p's owners and drop the repeats. */
static void dedupe(dance_activate_population *p)
{
    size_t k = 0;

    if (p->n == 0)
        return;
    qsort(p->owners, p->n, sizeof(*p->owners), owner_cmp);
    for (size_t i = 1; i < p->n; i++) {
        if (strcasecmp(p->owners[i], p->owners[k]) == 0)
            free(p->owners[i]);
        else
            p->owners[++k] = p->owners[i];
    }
    p->n = k + 1;
}

/* too_many - the refusal for a population larger than the cache. */
static int too_many(const dance_config *cfg, const char *at_least, size_t n,
                    char *err, size_t errlen)
{
    return DANCE_FAIL(0, err, errlen,
                      "prewarm_file %s names %s%zu ClientNames, more than "
                      "cache_max_entries = %zu: the warmed answers would push "
                      "each other out of the cache (raise cache_max_entries "
                      "or list fewer names)",
                      cfg->prewarm_file, at_least, n, cfg->cache_max_entries);
}

/* add_owner - append a copy of owner to p (room for cap; grown as
 * needed). Returns 1, or 0 when memory runs out. */
static int add_owner(dance_activate_population *p, size_t *cap,
                     const char *owner)
{
    char *copy;

    if (p->n == *cap) {
        size_t want = *cap > 0 ? *cap * 2 : 64;
        char **grown = realloc(p->owners, want * sizeof(*grown));

        if (grown == NULL)
            return 0;
        p->owners = grown;
        *cap = want;
    }
    if ((copy = strdup(owner)) == NULL)
        return 0;
    p->owners[p->n++] = copy;
    return 1;
}

/* check_name - the ClientName on line lineno of the file, checked as the
 * server checks a received one; its TLSA owner into owner (len bytes).
 * Returns 1, or 0 with the refusal in err. */
static int check_name(const dance_config *cfg, const dance_policy *pol,
                      const char *name, size_t lineno, char *owner, size_t len,
                      char *err, size_t errlen)
{
    char shown[DANCE_NAME_MAX + 2];
    const char *why = "";

    printable(name, shown, sizeof(shown));
    if (!dance_ext_client_owner(pol, name, owner, len, &why))
        return DANCE_FAIL(0, err, errlen,
                          "prewarm_file %s line %zu: '%s' is not a ClientName "
                          "the server accepts (%s)",
                          cfg->prewarm_file, lineno, shown, why);
    /* client_service before a long bare name can make an owner no DNS
     * name is (a client sending it is never authenticated either). */
    if (!dance_name_check(owner, strlen(owner), &why))
        return DANCE_FAIL(
            0, err, errlen,
            "prewarm_file %s line %zu: '%s': its TLSA owner "
            "with client_service = %s is not a DNS name (%s)",
            cfg->prewarm_file, lineno, shown,
            cfg->client_service != NULL ? cfg->client_service : "none", why);
    return 1;
}

/* read_population - the names of fp (the file cfg->prewarm_file) into
 * out. Returns 1, or 0 with the refusal in err. */
static int read_population(const dance_config *cfg, FILE *fp,
                           dance_activate_population *out, char *err,
                           size_t errlen)
{
    char line[DANCE_ACTIVATE_PREWARM_LINE_MAX + 2];
    char owner[DANCE_EXT_OWNER_MAX];
    /* Repeats are dropped when the list reaches twice the limit, so a
     * long file of repeats costs no more than that. */
    size_t cap = 0, lineno = 0, limit = cfg->cache_max_entries;
    size_t compact_at = limit <= ((size_t)-1) / 2 - 1 ? 2 * (limit + 1) : limit;
    dance_policy pol;
    line_status st;

    dance_config_policy(cfg, &pol);
    while ((st = read_line(fp, line, sizeof(line))) != LINE_EOF) {
        const char *name;

        lineno++;
        if (st == LINE_LONG)
            return DANCE_FAIL(0, err, errlen,
                              "prewarm_file %s line %zu: longer than %d "
                              "characters",
                              cfg->prewarm_file, lineno,
                              DANCE_ACTIVATE_PREWARM_LINE_MAX);
        if (st == LINE_NUL)
            return DANCE_FAIL(0, err, errlen,
                              "prewarm_file %s line %zu: holds a NUL byte",
                              cfg->prewarm_file, lineno);
        if (st == LINE_ERROR)
            return DANCE_FAIL(0, err, errlen,
                              "prewarm_file %s cannot be read: %s",
                              cfg->prewarm_file, strerror(errno));
        name = trim(line);
        if (name[0] == '\0')
            continue;
        if (!check_name(cfg, &pol, name, lineno, owner, sizeof(owner), err,
                        errlen))
            return 0;
        if (!add_owner(out, &cap, owner))
            return DANCE_FAIL(0, err, errlen, "out of memory");
        if (out->n >= compact_at) {
            dedupe(out);
            if (out->n > limit)
                return too_many(cfg, "at least ", out->n, err, errlen);
        }
    }
    dedupe(out);
    if (out->n > limit)
        return too_many(cfg, "", out->n, err, errlen);
    return 1;
}

/* dance_activate_prewarm - see header. */
int dance_activate_prewarm(const dance_config *cfg,
                           dance_activate_population *out, char *err,
                           size_t errlen)
{
    const char *path = cfg->prewarm_file;
    struct stat st;
    FILE *fp;
    int fd, ok;

    memset(out, 0, sizeof(*out));
    if (path == NULL)
        return 1;
    /* A population to warm needs a server role that looks clients up and
     * a cache to keep the answers in. */
    if (cfg->client_auth == DANCE_CLIENT_AUTH_OFF)
        return DANCE_FAIL(0, err, errlen,
                          "prewarm_file = %s with client_auth = off: nothing "
                          "would use the warmed answers (set client_auth, or "
                          "remove prewarm_file)",
                          path);
    if (cfg->cache_max_entries == 0)
        return DANCE_FAIL(0, err, errlen,
                          "prewarm_file = %s with cache_max_entries = 0: "
                          "there is no cache to keep the warmed answers in "
                          "(set cache_max_entries to at least the number of "
                          "names)",
                          path);
    /* Non-blocking: a FIFO in its place must not hang activation. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return DANCE_FAIL(0, err, errlen, "prewarm_file %s cannot be read: %s",
                          path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return DANCE_FAIL(0, err, errlen,
                          "prewarm_file %s is not a regular file", path);
    }
    if ((fp = fdopen(fd, "r")) == NULL) {
        close(fd);
        return DANCE_FAIL(0, err, errlen, "out of memory");
    }
    ok = read_population(cfg, fp, out, err, errlen);
    fclose(fp);
    if (!ok)
        dance_activate_population_clear(out);
    return ok;
}

/* dance_activate_population_clear - see header. */
void dance_activate_population_clear(dance_activate_population *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->owners[i]);
    free(p->owners);
    memset(p, 0, sizeof(*p));
}

/* dance_activate_second - see header. */
int dance_activate_second(const dance_config *first, const dance_config *second,
                          char *err, size_t errlen)
{
    /* The first activation's settings apply process-wide, and SSL_CTXs may
     * use them already. That is only right if they give this activation
     * everything it asks for; otherwise refuse, naming both sources (fail
     * closed). */
    const char *key = dance_config_conflict(first, second);
    char was[200], asked[200];

    if (key == NULL)
        return 1;
    return DANCE_FAIL(0, err, errlen,
                      "%s sets %s = %s, but %s, activated first in this "
                      "process, has %s = %s; the module is one per process: "
                      "put the settings of both in one section",
                      second->source != NULL ? second->source : "?", key,
                      dance_config_value(second, key, asked, sizeof(asked)),
                      first->source != NULL ? first->source : "?", key,
                      dance_config_value(first, key, was, sizeof(was)));
}
