/*
 * dance_activate.c - the activation checks the provider and
 * `dance check-config` share (see dance_activate.h).
 */
#include "dance_activate.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "dance_ext.h"
#include "dance_msg.h"

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
    if (!dance_ext_type_usable(cfg->extension_type))
        return DANCE_FAIL(0, err, errlen,
                          "extension_type = %u is an extension libssl "
                          "handles itself (choose another, e.g. 65293)",
                          cfg->extension_type);
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
