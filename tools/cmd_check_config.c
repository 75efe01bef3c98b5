/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_check_config.c - `dance check-config FILE [SECTION]`: what the
 * provider would say when a process loads FILE, like `nginx -t`.
 *
 * The configuration is read as the provider reads it: FILE is parsed by
 * libcrypto's own NCONF parser; our section is found the way the provider
 * finds it (openssl_conf -> providers -> the entry whose module is
 * dance.so, or SECTION); each key's value is what libcrypto's core would
 * hand the provider (dance_activate_core_value); then the provider's own
 * functions run in the provider's order: unknown keys, dance_config_load,
 * dance_activate_check_settings, and for the first activation in the
 * process the log destination, the resolver and the prewarm_file, for a
 * later one the conflict check with the first. So the verdict and its words are
 * the provider's. Besides the verdict it lists every error it finds (each bad
 * key, not only the first), the effective settings (written or default),
 * and, unless --offline, whether the trust anchor and the nameservers
 * answer (one query per nameserver, and one validated lookup).
 *
 * Exit status: 0 the provider would activate, 1 it would refuse (or FILE
 * cannot be read), 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>
#include <openssl/conf.h>
#include <openssl/err.h>

#include "dance_activate.h"
#include "dance_anchor.h"
#include "dance_cmd.h"
#include "dance_config.h"
#include "dance_log.h"
#include "dance_net.h"
#include "dance_res.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

/* How long the probes wait for one answer, milliseconds. */
#define PROBE_TIMEOUT_MS 1500

#define MAX_SECTIONS 16

static const char check_usage[] =
    "usage: dance check-config [--offline] FILE [SECTION]\n"
    "       dance check-config --keys\n"
    "\n"
    "Check the openssl.cnf FILE as the dance provider would when a process\n"
    "loads it: every error (naming the key), the effective settings, and\n"
    "whether the trust anchor and the nameservers are usable. SECTION is\n"
    "the provider's section; by default every section of FILE's providers\n"
    "whose module is dance.so (or that holds dance keys).\n"
    "\n"
    "      --offline  send no DNS query\n"
    "      --keys     list every key: name, type, role, default, accepted\n"
    "                 values, help (tab-separated, one key a line)\n"
    "\n"
    "Exit status: 0 the provider would activate, 1 it would refuse (or FILE\n"
    "cannot be read), 2 usage.\n";

/* One section of FILE the provider would be configured from. */
typedef struct {
    const char *sect;    /* borrowed from the CONF */
    char prov_name[128]; /* as the core names the provider */
    int activated;       /* libcrypto activates it on load */
    char source[300];    /* "[sect] (provider name)", as the provider says */
    dance_config cfg;    /* loaded when ok; else the keys that parse */
    int loaded;          /* cfg is what the provider would run with */
    int shown;           /* cfg holds only the keys that parse */
} section;

typedef struct {
    const CONF *conf;
    const char *sect;
} core_source;

/* core_get - dance_config_get_fn: what the core would hand the provider. */
static const char *core_get(const char *key, void *arg)
{
    const core_source *src = arg;

    return dance_activate_core_value(src->conf, src->sect, key);
}

/* core_get_none - dance_config_get_fn of an empty section. */
static const char *core_get_none(const char *key, void *arg)
{
    (void)key, (void)arg;
    return NULL;
}

/* Settings without the keys that do not parse (to show the rest). */
typedef struct {
    core_source src;
    const char *skip[DANCE_CONFIG_MAX_KEYS];
    size_t nskip;
} good_source;

/* good_get - core_get, but NULL for the keys in skip. */
static const char *good_get(const char *key, void *arg)
{
    const good_source *g = arg;

    for (size_t i = 0; i < g->nskip; i++)
        if (strcmp(g->skip[i], key) == 0)
            return NULL;
    return core_get(key, (void *)&g->src);
}

/* module_is_dance - does a provider section load our module? Its module is
 * dance.so (any directory), or, without a module, its name is dance, or it
 * holds a key only we read. */
static int module_is_dance(const CONF *conf, const char *sect, const char *name)
{
    STACK_OF(CONF_VALUE) *values = NCONF_get_section(conf, sect);
    const char *module = NULL;

    for (int i = 0; values != NULL && i < sk_CONF_VALUE_num(values); i++) {
        const CONF_VALUE *v = sk_CONF_VALUE_value(values, i);

        if (strcmp(v->name, "module") == 0)
            module = v->value;
        else if (dance_config_key_find(v->name) != NULL)
            return 1;
    }
    if (module != NULL) {
        const char *base = strrchr(module, '/');

        base = base != NULL ? base + 1 : module;
        return strcmp(base, "dance.so") == 0 || strcmp(base, "dance") == 0;
    }
    return strcmp(name, "dance") == 0;
}

/* find_sections - the sections of conf the provider would be configured
 * from, in libcrypto's order; or only `only`. Returns how many. */
static size_t find_sections(const CONF *conf, const char *only, section *out,
                            size_t max)
{
    STACK_OF(CONF_VALUE) *entries = NULL;
    const char *init, *provs;
    size_t n = 0;

    ERR_set_mark();
    init = NCONF_get_string(conf, NULL, "openssl_conf");
    provs = init != NULL ? NCONF_get_string(conf, init, "providers") : NULL;
    entries = provs != NULL ? NCONF_get_section(conf, provs) : NULL;
    ERR_pop_to_mark();
    for (int i = 0;
         entries != NULL && i < sk_CONF_VALUE_num(entries) && n < max; i++) {
        const CONF_VALUE *e = sk_CONF_VALUE_value(entries, i);
        const char *name =
            strchr(e->name, '.') != NULL ? strchr(e->name, '.') + 1 : e->name;
        const char *identity =
            dance_activate_core_value(conf, e->value, "identity");

        if (identity != NULL)
            name = identity;
        if (NCONF_get_section(conf, e->value) == NULL ||
            (only != NULL ? strcmp(e->value, only) != 0
                          : !module_is_dance(conf, e->value, name)))
            continue;
        memset(&out[n], 0, sizeof(out[n]));
        out[n].sect = e->value;
        snprintf(out[n].prov_name, sizeof(out[n].prov_name), "%s", name);
        out[n].activated = dance_activate_activates(conf, e->value);
        n++;
    }
    if (n == 0 && only != NULL && NCONF_get_section(conf, only) != NULL) {
        /* A section no providers entry names: check it as if it were. */
        memset(&out[0], 0, sizeof(out[0]));
        out[0].sect = only;
        snprintf(out[0].prov_name, sizeof(out[0].prov_name), "dance");
        out[0].activated = 1;
        n = 1;
    }
    for (size_t i = 0; i < n; i++) {
        /* The provider finds its section by its name; the first entry of
         * that name is the one it reads. */
        const char *found = dance_activate_find_section(conf, out[i].prov_name);

        if (found != NULL)
            out[i].sect = only != NULL ? only : found;
        snprintf(out[i].source, sizeof(out[i].source), "[%s] (provider %s)",
                 out[i].sect, out[i].prov_name);
    }
    return n;
}

/* report - count an error and print it. */
static void report(int *errors, const char *msg)
{
    (*errors)++;
    printf("  error: %s\n", msg);
}

/* list_key_errors - every unknown key and every key that does not parse,
 * each on its own line; the bad keys go to g->skip. */
static void list_key_errors(const CONF *conf, const char *path, section *s,
                            good_source *g, int *errors)
{
    STACK_OF(CONF_VALUE) *values = NCONF_get_section(conf, s->sect);
    char err[700];

    for (int i = 0; values != NULL && i < sk_CONF_VALUE_num(values); i++) {
        const CONF_VALUE *v = sk_CONF_VALUE_value(values, i);

        if (!dance_activate_known_key(v->name)) {
            dance_activate_unknown_key_error(v->name, s->sect, path, err,
                                             sizeof(err));
            report(errors, err);
        }
    }
    for (const dance_config_key *k = dance_config_table; k->name != NULL; k++) {
        const char *raw = NULL, *v = core_get(k->name, &g->src);

        for (int i = 0; values != NULL && i < sk_CONF_VALUE_num(values); i++)
            if (strcmp(sk_CONF_VALUE_value(values, i)->name, k->name) == 0)
                raw = sk_CONF_VALUE_value(values, i)->value;
        if (raw != NULL && v == NULL)
            printf("  warning: %s = %s names a section of the file: "
                   "libcrypto passes that section's keys as %s.<key>, so "
                   "the provider sees %s as not set\n",
                   k->name, raw, k->name, k->name);
        if (v != NULL &&
            !dance_config_check_value(k->name, v, err, sizeof(err))) {
            report(errors, err);
            g->skip[g->nskip++] = k->name;
        }
    }
}

/* print_settings - every key of cfg, its value, written or default. */
static void print_settings(const dance_config *cfg)
{
    static const char *const roles[] = {"client", "server", "both", "resolver",
                                        "logging"};

    printf("  settings:\n");
    for (const dance_config_key *k = dance_config_table; k->name != NULL; k++) {
        char v[600];

        dance_config_value(cfg, k->name, v, sizeof(v));
        printf("    %-18s = %-36s %-7s (%s)\n", k->name, v,
               dance_config_given(cfg, k->name) != NULL ? "written" : "default",
               roles[k->role]);
    }
}

/* load_section - the provider's read_config for section s: the verdict in
 * why (empty when it loads), and every error listed. */
static void load_section(const CONF *conf, const char *path, section *s,
                         char *why, size_t whylen, int *errors)
{
    good_source g = {{conf, s->sect}, {NULL}, 0};
    const char *unknown = dance_activate_unknown_key(conf, s->sect);
    char err[700];
    why[0] = '\0';
    list_key_errors(conf, path, s, &g, errors);
    /* The provider's own sequence, for its verdict and its words. */
    if (unknown != NULL) {
        dance_activate_unknown_key_error(unknown, s->sect, path, err,
                                         sizeof(err));
    } else if (!dance_config_load(&s->cfg, core_get, &g.src, err,
                                  sizeof(err))) {
        if (g.nskip == 0) /* a rule across keys: not listed yet */
            report(errors, err);
    } else if (!dance_activate_check_settings(&s->cfg, err, sizeof(err))) {
        report(errors, err);
        dance_config_clear(&s->cfg);
    } else {
        s->loaded = 1;
        s->cfg.source = strdup(s->source);
        print_settings(&s->cfg);
        return;
    }
    snprintf(why, whylen, "%.200s: %.600s", s->source, err);
    /* Show what the keys that do parse amount to. */
    if (dance_config_load(&s->cfg, good_get, &g, err, sizeof(err))) {
        s->shown = 1;
        print_settings(&s->cfg);
    }
}

/* probe_servers - one query per nameserver of cfg for (zone, type), and
 * what came back. */
static void probe_servers(const dance_config *cfg, const ldns_rdf *zone,
                          ldns_rr_type type)
{
    dance_net_server from_file[DANCE_NET_MAX_SERVERS];
    const dance_net_server *servers = cfg->servers;
    dance_net_params params = {PROBE_TIMEOUT_MS, 1, 1, 0};
    char err[300], addr[80], *zs = ldns_rdf2str(zone);
    size_t n = cfg->nservers;
    int ok = 1;

    if (n == 0) { /* nameservers unset: those of resolv.conf */
        ok = dance_net_servers_from_resolv_conf(
            DANCE_RES_DEFAULT_RESOLV_CONF, from_file, &n, err, sizeof(err));
        servers = from_file;
    }

    if (!ok) {
        printf("  nameservers: %s\n", err);
        free(zs);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        ldns_pkt *reply = NULL;
        dance_net_status st =
            dance_net_query(&servers[i], 1, zone, type, &params,
                            dance_net_now_ms() + PROBE_TIMEOUT_MS, &reply, NULL,
                            err, sizeof(err));

        dance_net_server_str(&servers[i], addr, sizeof(addr));
        if (st != DANCE_NET_OK) {
            printf("  nameserver %s: %s %s: no answer (%s: %s)\n", addr,
                   zs != NULL ? zs : "?",
                   type == LDNS_RR_TYPE_DNSKEY ? "DNSKEY" : "SOA",
                   dance_net_status_str(st), err);
            continue;
        }
        {
            char *rcode = ldns_pkt_rcode2str(ldns_pkt_get_rcode(reply));

            printf("  nameserver %s: %s %s: %s, %u answer record(s)%s\n", addr,
                   zs != NULL ? zs : "?",
                   type == LDNS_RR_TYPE_DNSKEY ? "DNSKEY" : "SOA",
                   rcode != NULL ? rcode : "?",
                   (unsigned)ldns_pkt_ancount(reply),
                   ldns_pkt_ad(reply) ? ", AD set" : "");
            free(rcode);
        }
        ldns_pkt_free(reply);
    }
    free(zs);
}

/* probe - is the trust anchor usable, do the nameservers answer, and does
 * the anchored zone's DNSKEY validate through the resolver cfg asks for? */
static void probe(const dance_config *cfg, dance_res *res)
{
    dance_anchors *anchors = NULL;
    ldns_rdf *root = ldns_dname_new_frm_str(".");
    const ldns_rdf *zone = root;
    ldns_rr_type type = LDNS_RR_TYPE_SOA;
    char err[400];

    if (cfg->dnssec == DANCE_RES_MODE_VALIDATE) {
        anchors = dance_anchors_load(cfg->trust_anchor, err, sizeof(err));
        if (anchors == NULL) {
            printf("  trust anchor: %s\n", err);
        } else {
            printf("  trust anchor: %s: zone(s)", cfg->trust_anchor);
            for (size_t i = 0; i < dance_anchors_zone_count(anchors); i++) {
                char *z = ldns_rdf2str(dance_anchors_zone(anchors, i));

                printf(" %s", z != NULL ? z : "?");
                free(z);
            }
            printf("\n");
            zone = dance_anchors_zone(anchors, 0);
            type = LDNS_RR_TYPE_DNSKEY;
        }
    } else {
        printf("  trust anchor: not used (dnssec = trust-ad)\n");
    }
    if (zone != NULL) {
        char *zs = ldns_rdf2str(zone);
        dance_res_result *r;

        probe_servers(cfg, zone, type);
        r = dance_res_lookup(res, zs != NULL ? zs : ".", type, time(NULL));
        printf("  lookup %s %s (dnssec = %s): %s%s%s\n", zs != NULL ? zs : "?",
               type == LDNS_RR_TYPE_DNSKEY ? "DNSKEY" : "SOA",
               dance_res_mode_str(cfg->dnssec),
               r != NULL ? dance_res_status_str(dance_res_result_status(r))
                         : "out of memory",
               r != NULL && dance_res_result_get0_why(r) != NULL ? ": " : "",
               r != NULL && dance_res_result_get0_why(r) != NULL
                   ? dance_res_result_get0_why(r)
                   : "");
        if (r == NULL ||
            !dance_res_status_is_secure(dance_res_result_status(r)))
            printf("  warning: the provider activates, but DANE lookups "
                   "will not be secure until this lookup is\n");
        dance_res_result_free(r);
        free(zs);
    }
    dance_anchors_free(anchors);
    ldns_rdf_deep_free(root);
}

/* check_population - the provider's reading of prewarm_file (if set):
 * 1, printing how many names it warms, or 0 with its refusal in err. */
static int check_population(const dance_config *cfg, char *err, size_t errlen)
{
    dance_activate_population pop;

    if (!dance_activate_prewarm(cfg, &pop, err, errlen))
        return 0;
    if (cfg->prewarm_file != NULL)
        printf("  prewarm_file: %zu ClientName%s to warm\n", pop.n,
               pop.n == 1 ? "" : "s");
    dance_activate_population_clear(&pop);
    return 1;
}

/* activate - what runtime_get would say for s: the first activation in
 * the process checks the log destination and builds the resolver; a later
 * one must agree with the first (first: the first activated section, NULL
 * if s is it; first_why: its refusal, if refused). With s->shown (the
 * provider already refused s's keys), only lists the errors its log and
 * resolver settings would cause next. */
static void activate(section *s, const section *first, const char *first_why,
                     int offline, char *why, size_t whylen, int *errors)
{
    char err[700], log_err[400];
    dance_res *res;

    if (s->shown) {
        if (!dance_log_check(s->cfg.log_file, log_err, sizeof(log_err)))
            report(errors, log_err);
        if ((res = dance_activate_resolver(&s->cfg, err, sizeof(err))) == NULL)
            report(errors, err);
        dance_res_free(res);
        if (!check_population(&s->cfg, err, sizeof(err)))
            report(errors, err);
        return;
    }
    if (first != NULL && first_why[0] != '\0') {
        snprintf(err, sizeof(err), "%s was refused first in this process",
                 first->source);
        report(errors, err);
        snprintf(why, whylen, "dance provider configuration: %s", first_why);
        return;
    }
    if (first != NULL) {
        if (!dance_activate_second(&first->cfg, &s->cfg, why, whylen))
            report(errors, why);
        return;
    }
    if (!dance_log_check(s->cfg.log_file, log_err, sizeof(log_err))) {
        report(errors, log_err);
        snprintf(why, whylen, "%s", log_err);
    }
    res = dance_activate_resolver(&s->cfg, err, sizeof(err));
    if (res == NULL) {
        report(errors, err);
        if (why[0] == '\0')
            snprintf(why, whylen, "%s", err);
        return;
    }
    if (!check_population(&s->cfg, err, sizeof(err))) {
        report(errors, err);
        if (why[0] == '\0')
            snprintf(why, whylen, "%s", err);
    }
    if (!offline && why[0] == '\0')
        probe(&s->cfg, res);
    dance_res_free(res);
}

/* list_keys - the key table, one tab-separated line a key: name, type,
 * role, default (as printed), accepted values, help. */
static int list_keys(void)
{
    static const char *const types[] = {"enum", "number", "name", "list",
                                        "path"};
    static const char *const roles[] = {"client", "server", "both", "resolver",
                                        "logging"};
    static const char *const none[] = {NULL};
    dance_config cfg;
    char err[300];

    if (!dance_config_load(&cfg, core_get_none, (void *)none, err,
                           sizeof(err))) {
        fprintf(stderr, "dance check-config: %s\n", err);
        return EXIT_REFUSED;
    }
    for (const dance_config_key *k = dance_config_table; k->name != NULL; k++) {
        char v[300];

        dance_config_value(&cfg, k->name, v, sizeof(v));
        printf("%s\t%s\t%s\t%s\t%s\t%s\n", k->name, types[k->type],
               roles[k->role], v, k->accepted, k->help);
    }
    dance_config_clear(&cfg);
    return EXIT_OK;
}

/* dance_cmd_check_config - the `dance check-config` subcommand. */
int dance_cmd_check_config(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"offline", no_argument, NULL, 'o'},
        {"keys", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    section sections[MAX_SECTIONS];
    const section *first = NULL;
    const char *path, *only;
    char first_why[900] = "";
    CONF *conf;
    long line = -1;
    size_t n;
    int offline = 0, errors = 0, c, refused = 0;

    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'o') {
            offline = 1;
        } else if (c == 'k') {
            return list_keys();
        } else if (c == 'h') {
            fputs(check_usage, stdout);
            return EXIT_OK;
        } else {
            fputs(check_usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind < 1 || argc - optind > 2) {
        fputs(check_usage, stderr);
        return EXIT_USAGE;
    }
    path = argv[optind];
    only = argc - optind == 2 ? argv[optind + 1] : NULL;
    conf = NCONF_new(NULL);
    if (conf == NULL || NCONF_load(conf, path, &line) <= 0) {
        unsigned long e = ERR_peek_last_error();

        printf("%s: cannot be loaded: %s", path,
               e != 0 ? ERR_reason_error_string(e) : "out of memory");
        if (line > 0)
            printf(" (line %ld)", line);
        printf("\nresult: refused (libcrypto cannot read the file)\n");
        NCONF_free(conf);
        return EXIT_REFUSED;
    }
    if (only != NULL && NCONF_get_section(conf, only) == NULL) {
        fprintf(stderr, "dance check-config: %s has no section [%s]\n", path,
                only);
        NCONF_free(conf);
        return EXIT_USAGE;
    }
    n = find_sections(conf, only, sections, MAX_SECTIONS);
    if (n == 0) {
        printf("%s: no provider section loads dance.so (openssl_conf -> "
               "providers); name the section: dance check-config FILE "
               "SECTION\nresult: refused (the provider is not configured)\n",
               path);
        NCONF_free(conf);
        return EXIT_REFUSED;
    }
    for (size_t i = 0; i < n; i++) {
        section *s = &sections[i];
        char why[900] = "";
        int before = errors;

        printf("%s%s: %s\n", i > 0 ? "\n" : "", s->source,
               s->activated ? "activated when the file is loaded"
                            : "not activated by the file (an application "
                              "may load it)");
        load_section(conf, path, s, why, sizeof(why), &errors);
        if (why[0] != '\0') {
            if (s->shown)
                activate(s, NULL, "", 1, NULL, 0, &errors);
            printf("  provider says: dance provider not activated, TLS "
                   "disabled: %s\n",
                   why);
        } else {
            activate(s, s->activated ? first : NULL, first_why, offline, why,
                     sizeof(why), &errors);
            if (why[0] != '\0')
                printf("  provider says: dance provider not activated, TLS "
                       "disabled: %s\n",
                       why);
        }
        if (s->activated && first == NULL) {
            first = s;
            snprintf(first_why, sizeof(first_why), "%s", why);
        }
        if (errors > before)
            refused = 1;
        else
            printf("  ok\n");
    }
    printf("\nresult: %s", refused ? "refused" : "ok");
    if (errors > 0)
        printf(" (%d error%s)", errors, errors == 1 ? "" : "s");
    printf("\n");
    for (size_t i = 0; i < n; i++)
        if (sections[i].loaded || sections[i].shown)
            dance_config_clear(&sections[i].cfg);
    NCONF_free(conf);
    return refused ? EXIT_REFUSED : EXIT_OK;
}
