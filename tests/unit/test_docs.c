/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_docs.c - suite "docs": the documentation matches the code.
 *
 * Every key of the provider's own list (dance_config_table, the table the
 * provider reads openssl.cnf with) has a row in README.md's key table and
 * an entry in the KEYS section of dance-provider(7); every command the
 * built `dance` tool lists in its --help has a section in dance(1), and
 * every option its --help names appears there; both
 * man pages render with groff without a warning; LICENSE is the Apache-2.0
 * text and every tracked source file carries its SPDX identifier.
 *
 * Paths come from the build: DANCE_SOURCE_DIR (the source tree) and
 * DANCE_TOOL (the built dance binary).
 */
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dance_config.h"
#include "dance_test.h"
#include "dance_version.h"

#define SPDX_LINE "SPDX-License-Identifier: Apache-2.0"
#define RENDER "groff -man -Tascii -P-c -P-b -P-u -P-o"

/* check - an assertion whose message is formatted (CUnit copies it). */
static void check(int ok, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (ok) {
        CU_PASS("docs");
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "docs: %s\n", msg);
    CU_assertImplementation(CU_FALSE, __LINE__, msg, __FILE__, "", CU_FALSE);
}

/* slurp_cmd - everything command writes to stdout, NUL-terminated, or NULL;
 * *status gets its exit status. The caller frees the text. */
static char *slurp_cmd(const char *command, int *status)
{
    FILE *p = popen(command, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (p == NULL)
        return NULL;
    do {
        if (cap - len < 4096) {
            char *grown = realloc(buf, cap + 65536);

            if (grown == NULL) {
                free(buf);
                pclose(p);
                return NULL;
            }
            buf = grown;
            cap += 65536;
        }
        n = fread(buf + len, 1, cap - len - 1, p);
        len += n;
    } while (n > 0);
    buf[len] = '\0';
    *status = pclose(p);
    return buf;
}

/* slurp_file - the whole file at DANCE_SOURCE_DIR/rel, or NULL. The caller
 * frees it. */
static char *slurp_file(const char *rel)
{
    char cmd[1024];
    int status = 0;
    char *text;

    snprintf(cmd, sizeof(cmd), "cat '%s/%s'", DANCE_SOURCE_DIR, rel);
    text = slurp_cmd(cmd, &status);
    if (text != NULL && status != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* render - man page rel (under the source tree) as plain text, or NULL. */
static char *render(const char *rel)
{
    char cmd[1024];
    int status = 0;
    char *text;

    snprintf(cmd, sizeof(cmd), RENDER " '%s/%s' 2>/dev/null", DANCE_SOURCE_DIR,
             rel);
    text = slurp_cmd(cmd, &status);
    if (text != NULL && status != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* section - the lines of rendered text under heading (a line that is the
 * heading alone) up to the next top-level heading; points into text, which
 * is cut there. NULL when there is no such heading. */
static char *section(char *text, const char *heading)
{
    size_t hl = strlen(heading);
    char *p = text, *end;

    while (p != NULL && *p != '\0') {
        if (strncmp(p, heading, hl) == 0 && p[hl] == '\n')
            break;
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    if (p == NULL || *p == '\0')
        return NULL;
    p += hl + 1;
    /* the next line starting with a capital letter at column 0 */
    for (end = p; *end != '\0'; end++)
        if ((end == p || end[-1] == '\n') && *end >= 'A' && *end <= 'Z') {
            *end = '\0';
            break;
        }
    return p;
}

/* has_line - text has a line that starts with prefix followed by a space
 * or the end of the line. */
static int has_line(const char *text, const char *prefix)
{
    size_t pl = strlen(prefix);
    const char *p = text;

    while (p != NULL && *p != '\0') {
        if (strncmp(p, prefix, pl) == 0 &&
            (p[pl] == ' ' || p[pl] == '\n' || p[pl] == '\0'))
            return 1;
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    return 0;
}

/* test_keys_in_readme - each key has its row "| `key` |" in README.md. */
static void test_keys_in_readme(void)
{
    char *readme = slurp_file("README.md");
    char row[128];
    size_t k;

    CU_ASSERT_PTR_NOT_NULL_FATAL(readme);
    for (k = 0; dance_config_table[k].name != NULL; k++) {
        snprintf(row, sizeof(row), "| `%s` |", dance_config_table[k].name);
        check(strstr(readme, row) != NULL,
              "key %s has no row in README.md's key table",
              dance_config_table[k].name);
    }
    CU_ASSERT(k > 10); /* the list is the real one, not empty */
    free(readme);
}

/* test_keys_in_man - each key has an entry (a tag line) in the KEYS
 * section of dance-provider(7). */
static void test_keys_in_man(void)
{
    char *page = render("man/dance-provider.7");
    char *keys, prefix[128];
    size_t k;

    CU_ASSERT_PTR_NOT_NULL_FATAL(page);
    keys = section(page, "KEYS");
    check(keys != NULL, "dance-provider(7) has no KEYS section");
    if (keys != NULL)
        for (k = 0; dance_config_table[k].name != NULL; k++) {
            snprintf(prefix, sizeof(prefix), "       %s",
                     dance_config_table[k].name);
            check(has_line(keys, prefix),
                  "key %s has no entry in dance-provider(7) KEYS",
                  dance_config_table[k].name);
        }
    free(page);
}

#define MAX_COMMANDS 64

/* list_commands - the command names `dance --help` lists (at most max);
 * their number, or -1 when the tool cannot be run. */
static int list_commands(char (*names)[64], int max)
{
    int status = 0, n = 0, in_list = 0;
    char *help = slurp_cmd("'" DANCE_TOOL "' --help", &status);
    char *line, *save = NULL;

    if (help == NULL || status != 0) {
        free(help);
        return -1;
    }
    for (line = strtok_r(help, "\n", &save); line != NULL && n < max;
         line = strtok_r(NULL, "\n", &save)) {
        if (strcmp(line, "commands:") == 0) {
            in_list = 1;
            continue;
        }
        if (!in_list)
            continue;
        if (strncmp(line, "  ", 2) != 0 || sscanf(line, " %63s", names[n]) != 1)
            in_list = 0; /* the list ends at the first other line */
        else
            n++;
    }
    free(help);
    return n;
}

/* test_commands_in_man - each command `dance --help` lists has a
 * subsection "dance COMMAND ..." in dance(1). */
static void test_commands_in_man(void)
{
    char names[MAX_COMMANDS][64], prefix[128];
    char *page = render("man/dance.1");
    char *commands;
    int n = list_commands(names, MAX_COMMANDS);

    CU_ASSERT_PTR_NOT_NULL_FATAL(page);
    check(n >= 5, "dance --help listed %d commands", n);
    commands = section(page, "COMMANDS");
    check(commands != NULL, "dance(1) has no COMMANDS section");
    for (int i = 0; i < n && commands != NULL; i++) {
        snprintf(prefix, sizeof(prefix), "   dance %.63s", names[i]);
        check(has_line(commands, prefix),
              "command '%s' (dance --help) has no section in dance(1)",
              names[i]);
    }
    free(page);
}

/* has_word - text holds word, not as part of a longer option or word. */
static int has_word(const char *text, const char *word)
{
    size_t wl = strlen(word);

    for (const char *p = strstr(text, word); p != NULL;
         p = strstr(p + 1, word)) {
        char after = p[wl];

        if ((p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '-')) &&
            !(isalnum((unsigned char)after) || after == '-'))
            return 1;
    }
    return 0;
}

/* test_options_in_man - every option a command's --help names (-x,
 * --long-name) appears in dance(1). */
static void test_options_in_man(void)
{
    char names[MAX_COMMANDS][64];
    char *page = render("man/dance.1");
    int n = list_commands(names, MAX_COMMANDS), options = 0;
    regex_t re;

    CU_ASSERT_PTR_NOT_NULL_FATAL(page);
    CU_ASSERT_FATAL(regcomp(&re, "(^|[^-a-zA-Z0-9])(--?[a-zA-Z][a-zA-Z0-9-]*)",
                            REG_EXTENDED) == 0);
    for (int i = 0; i < n; i++) {
        char cmd[1024], *help, *p;
        regmatch_t m[3];
        int status = 0;

        snprintf(cmd, sizeof(cmd), "'%s' %.63s --help", DANCE_TOOL, names[i]);
        help = slurp_cmd(cmd, &status);
        CU_ASSERT_PTR_NOT_NULL_FATAL(help);
        check(status == 0, "dance %s --help exits with %d", names[i], status);
        for (p = help; regexec(&re, p, 3, m, p == help ? 0 : REG_NOTBOL) == 0;
             p += m[2].rm_eo) {
            char opt[64];
            int len = (int)(m[2].rm_eo - m[2].rm_so);

            snprintf(opt, sizeof(opt), "%.*s", len, p + m[2].rm_so);
            options++;
            check(has_word(page, opt),
                  "option %s of 'dance %s' is not in dance(1)", opt, names[i]);
        }
        free(help);
    }
    check(options > 50, "only %d options found in the commands' help", options);
    regfree(&re);
    free(page);
}

/* test_version - `dance --version` and `dance help COMMAND` print the
 * version project(VERSION) generated into dance_version.h. */
static void test_version(void)
{
    char names[MAX_COMMANDS][64], cmd[1024], want[128];
    int status = 0, n = list_commands(names, MAX_COMMANDS);
    char *out = slurp_cmd("'" DANCE_TOOL "' --version", &status);

    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    check(status == 0 &&
              strcmp(out, "dance (dance-provider) " DANCE_VERSION "\n") == 0,
          "dance --version printed '%s' (status %d)", out, status);
    free(out);
    CU_ASSERT_FATAL(n > 0);
    snprintf(cmd, sizeof(cmd), "'%s' help %.63s", DANCE_TOOL, names[0]);
    snprintf(want, sizeof(want), "dance %.63s (dance-provider %s)", names[0],
             DANCE_VERSION);
    out = slurp_cmd(cmd, &status);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    check(status == 0 && strncmp(out, want, strlen(want)) == 0 &&
              strstr(out, "usage: dance ") != NULL,
          "dance help %s printed '%.80s' (status %d)", names[0], out, status);
    free(out);
    out =
        slurp_cmd("'" DANCE_TOOL "' help no-such-command 2>/dev/null", &status);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    check(status != 0, "dance help no-such-command exits with 0");
    free(out);
}

/* test_pages_render_clean - groff renders both pages with every warning
 * on (-ww) and says nothing. */
static void test_pages_render_clean(void)
{
    static const char *const pages[] = {"man/dance.1", "man/dance-provider.7",
                                        NULL};
    char cmd[1024];

    for (size_t i = 0; pages[i] != NULL; i++) {
        int status = 0;
        char *out;

        snprintf(cmd, sizeof(cmd), "groff -man -Tutf8 -ww -z '%s/%s' 2>&1",
                 DANCE_SOURCE_DIR, pages[i]);
        out = slurp_cmd(cmd, &status);
        CU_ASSERT_PTR_NOT_NULL_FATAL(out);
        check(status == 0 && out[0] == '\0', "groff -ww on %s: %s (status %d)",
              pages[i], out, status);
        free(out);
    }
}

/* is_source - a file that must carry the SPDX identifier: C, shell,
 * Python, CMake (and CMake templates), or any script with a #! line. */
static int is_source(const char *path, const char *first_line)
{
    static const char *const ext[] = {".c",     ".h",    ".sh", ".py",
                                      ".cmake", ".h.in", NULL};
    const char *base = strrchr(path, '/');
    size_t pl = strlen(path);

    base = base != NULL ? base + 1 : path;
    if (strcmp(base, "CMakeLists.txt") == 0 ||
        strncmp(first_line, "#!", 2) == 0)
        return 1;
    for (size_t i = 0; ext[i] != NULL; i++) {
        size_t el = strlen(ext[i]);

        if (pl > el && strcmp(path + pl - el, ext[i]) == 0)
            return 1;
    }
    return 0;
}

/* test_spdx_headers - LICENSE is Apache-2.0; every tracked source file
 * names it in its first five lines. */
static void test_spdx_headers(void)
{
    char cmd[1024], *files, *path, *save = NULL;
    char *license = slurp_file("LICENSE");
    int status = 0, checked = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(license);
    check(strstr(license, "Apache License") != NULL &&
              strstr(license, "Version 2.0, January 2004") != NULL &&
              strstr(license, "END OF TERMS AND CONDITIONS") != NULL,
          "LICENSE is not the full Apache-2.0 text");
    free(license);
    /* tracked files; outside a git checkout, every file but build trees */
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && { git ls-files 2>/dev/null || find . -path "
             "'./build*' -prune -o -path ./.git -prune -o -type f -print | "
             "sed 's|^\\./||'; }",
             DANCE_SOURCE_DIR);
    files = slurp_cmd(cmd, &status);
    CU_ASSERT_PTR_NOT_NULL_FATAL(files);
    for (path = strtok_r(files, "\n", &save); path != NULL;
         path = strtok_r(NULL, "\n", &save)) {
        char full[1024], line[512];
        int found = 0, source;
        FILE *fp;

        snprintf(full, sizeof(full), "%s/%s", DANCE_SOURCE_DIR, path);
        fp = fopen(full, "r");
        if (fp == NULL)
            continue; /* tracked but deleted in the work tree */
        if (fgets(line, sizeof(line), fp) == NULL)
            line[0] = '\0';
        source = is_source(path, line);
        for (int i = 0; source && i < 5 && !found; i++) {
            found = strstr(line, SPDX_LINE) != NULL;
            if (fgets(line, sizeof(line), fp) == NULL)
                break;
        }
        fclose(fp);
        if (source) {
            checked++;
            check(found, "%s has no '%s' in its first 5 lines", path,
                  SPDX_LINE);
        }
    }
    check(checked > 50, "only %d source files found", checked);
    free(files);
}

/* dance_test_suite_docs - see dance_test.h. */
int dance_test_suite_docs(void)
{
    static const CU_TestInfo cases[] = {
        {"every key in README.md", test_keys_in_readme},
        {"every key in dance-provider(7)", test_keys_in_man},
        {"every command in dance(1)", test_commands_in_man},
        {"every option of every command in dance(1)", test_options_in_man},
        {"man pages render without warnings", test_pages_render_clean},
        {"dance --version and dance help COMMAND", test_version},
        {"LICENSE and SPDX headers", test_spdx_headers},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("docs", NULL, NULL, cases);
}
