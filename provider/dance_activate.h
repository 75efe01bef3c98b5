/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_activate.h - the checks activation makes beyond parsing the keys,
 * shared by the provider (dance_prov.c) and `dance check-config`, so the
 * tool refuses exactly what the provider refuses, with the same words.
 *
 * In activation order:
 *  1. dance_activate_find_section / dance_activate_unknown_key: our
 *     section of the openssl.cnf the process loaded, and no key in it that
 *     nobody reads (a misspelling would silently drop a setting);
 *  2. dance_config_load (dance_config.h): every key, strictly;
 *  3. dance_activate_check_settings: what the keys alone cannot tell (an
 *     extension type libssl handles itself);
 *  4. for the first activation in a process: dance_log_check or
 *     dance_log_configure (common/dance_log.h), then
 *     dance_activate_resolver, then dance_activate_prewarm; for a later
 *     one: dance_activate_second.
 */
#ifndef DANCE_ACTIVATE_H
#define DANCE_ACTIVATE_H

#include <stddef.h>

#include <openssl/conf.h>

#include "dance_config.h"
#include "dance_res.h"

/*
 * dance_activate_find_section - the section of conf that configures the
 * provider named prov_name (as the core names it: the entry of the
 * providers section, or its "identity" value): openssl_conf -> providers ->
 * the entry whose name, or whose section's identity, is prov_name.
 * Returns the section's name (borrowed from conf), or NULL.
 */
const char *dance_activate_find_section(const CONF *conf,
                                        const char *prov_name);

/*
 * dance_activate_core_value - what the core hands the provider for key
 * from section sect of conf (libcrypto's provider_conf_params): the
 * section's last value of key, or NULL when key is not there or its value
 * names a section of conf (libcrypto then passes that section's keys as
 * "key.subkey" instead, and key itself is not set). Borrowed from conf.
 */
const char *dance_activate_core_value(const CONF *conf, const char *sect,
                                      const char *key);

/*
 * dance_activate_activates - does libcrypto activate the provider of
 * section sect when it loads conf? OpenSSL 3.0 and 3.1 do when the section
 * has an "activate" key, whatever its value; later versions when its value
 * is a true one (1, yes, true, on).
 */
int dance_activate_activates(const CONF *conf, const char *sect);

/*
 * dance_activate_known_key - a key of ours (dance_config_table) or one
 * libcrypto reads from any provider section ("module", "activate",
 * "identity", "soft_load")?
 */
int dance_activate_known_key(const char *key);

/*
 * dance_activate_unknown_key - the first key of section sect in conf that
 * neither the provider (dance_config_table) nor libcrypto ("module",
 * "activate", "identity", "soft_load") reads, or NULL. Borrowed from conf.
 */
const char *dance_activate_unknown_key(const CONF *conf, const char *sect);

/*
 * dance_activate_unknown_key_error - the refusal for key in [sect] of path,
 * in err.
 */
void dance_activate_unknown_key_error(const char *key, const char *sect,
                                      const char *path, char *err,
                                      size_t errlen);

/*
 * dance_activate_check_settings - checks of a loaded cfg that need more
 * than its keys (extension_type usable by libssl; raw_public_keys needs
 * OpenSSL >= 3.2 at build and run time). Returns 1, or 0 with a message
 * in err.
 */
int dance_activate_check_settings(const dance_config *cfg, char *err,
                                  size_t errlen);

/*
 * dance_activate_resolver - the resolver cfg asks for (reads the trust
 * anchor, parses nameservers or /etc/resolv.conf). Returns it (caller
 * frees with dance_res_free), or NULL with the refusal in err.
 */
dance_res *dance_activate_resolver(const dance_config *cfg, char *err,
                                   size_t errlen);

/* The longest line of a prewarm_file, characters (blanks and comments
 * included). */
#define DANCE_ACTIVATE_PREWARM_LINE_MAX 1024

/* A known population (prewarm_file): the TLSA owners of its ClientNames. */
typedef struct {
    char **owners; /* distinct (compared without case), sorted; owned */
    size_t n;
} dance_activate_population;

/*
 * dance_activate_prewarm - read cfg->prewarm_file (nothing when it is not
 * set; refused with client_auth = off, which would not use it, or
 * cache_max_entries = 0, which leaves nowhere to keep it): one ClientName
 * a line, as a client would send it; '#' starts a
 * comment, blank lines are skipped, blanks around a name are trimmed.
 * Every name must pass the checks a received ClientName passes and is
 * mapped to its TLSA owner as a received one is (dance_ext_client_owner,
 * with cfg's allow and client_service); repeated owners are dropped; more
 * owners than cfg->cache_max_entries are refused. Returns 1 with the
 * owners in out (free with dance_activate_population_clear), or 0 with
 * the refusal in err naming the key, the file and the line (out empty).
 */
int dance_activate_prewarm(const dance_config *cfg,
                           dance_activate_population *out, char *err,
                           size_t errlen);

/* dance_activate_population_clear - free what dance_activate_prewarm
 * put in p, and empty it. */
void dance_activate_population_clear(dance_activate_population *p);

/*
 * dance_activate_second - may second (a later activation in a process)
 * run with first, the settings in force? Returns 1, or 0 with the refusal
 * in err naming the key and both sources (cfg->source).
 */
int dance_activate_second(const dance_config *first, const dance_config *second,
                          char *err, size_t errlen);

#endif /* DANCE_ACTIVATE_H */
