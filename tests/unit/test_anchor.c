/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_anchor.c - suite "anchor": trust anchor files
 * (resolver/dance_anchor.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dance_anchor.h"
#include "dance_test.h"

/* write_tmp - a temporary file holding text; path into buf. */
static void write_tmp(char *buf, const char *text)
{
    int fd;
    FILE *fp;

    strcpy(buf, "/tmp/dance-anchor-XXXXXX");
    fd = mkstemp(buf);
    CU_ASSERT_FATAL(fd >= 0);
    fp = fdopen(fd, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs(text, fp);
    fclose(fp);
}

/* closest - dance_anchors_closest as a string ("" for none). */
static void check_closest(const dance_anchors *a, const char *name,
                          const char *want)
{
    ldns_rdf *n = ldns_dname_new_frm_str(name);
    const ldns_rdf *got = dance_anchors_closest(a, n);
    char *s = got != NULL ? ldns_rdf2str(got) : NULL;

    CU_ASSERT_STRING_EQUAL(s != NULL ? s : "", want);
    free(s);
    ldns_rdf_deep_free(n);
}

static void test_load_and_find(void)
{
    char path[64], err[256] = "";
    dance_anchors *a;
    ldns_rdf *z;

    write_tmp(
        path,
        "; test anchors\n"
        "$TTL 3600\n"
        "test. IN DS 12345 13 2 "
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
        "\n"
        "Sub.Example.TEST. IN DNSKEY 257 3 13 "
        "kXKkvWU3vGYfTJGl3qBd4qhiWp5aRs7YtkCJxD2d+t7KXqwahww5IgJtxJT2yFI"
        "tlggazyfXqJEVOmMJ3qT0tQ==\n");
    a = dance_anchors_load(path, err, sizeof(err));
    unlink(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    check_closest(a, "www.example.test.", "test.");
    check_closest(a, "test.", "test.");
    check_closest(a, "a.sub.example.test.", "sub.example.test.");
    check_closest(a, "example.org.", "");
    z = ldns_dname_new_frm_str("test.");
    CU_ASSERT_EQUAL(ldns_rr_list_rr_count(dance_anchors_get0(a, z)), 1);
    ldns_rdf_deep_free(z);
    z = ldns_dname_new_frm_str("example.test.");
    CU_ASSERT_EQUAL(ldns_rr_list_rr_count(dance_anchors_get0(a, z)), 0);
    ldns_rdf_deep_free(z);
    dance_anchors_free(a);
}

/* load_fails - loading text fails with a message containing needle. */
static void load_fails(const char *text, const char *needle)
{
    char path[64], err[256] = "";
    dance_anchors *a;

    write_tmp(path, text);
    a = dance_anchors_load(path, err, sizeof(err));
    unlink(path);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
    dance_anchors_free(a);
}

static void test_bad_files(void)
{
    char err[256] = "";

    load_fails("; nothing here\n", "no DS or DNSKEY");
    load_fails("test. IN A 127.0.0.1\n", "only DS and DNSKEY");
    load_fails("test. IN DS 1 2 3 zz-not-hex\n", ":1:");
    CU_ASSERT_PTR_NULL(
        dance_anchors_load("/nonexistent/anchor", err, sizeof(err)));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/anchor"));
}

int dance_test_suite_anchor(void)
{
    static const CU_TestInfo tests[] = {
        {"load and find the closest anchor", test_load_and_find},
        {"bad files are refused with the reason", test_bad_files},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("anchor", NULL, NULL, tests);
}
