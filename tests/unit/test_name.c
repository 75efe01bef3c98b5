/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_name.c - suite "name": ClientName rules, the dane_clientid wire
 * codec and allow-list patterns (ext/dance_name.c).
 */
#include <string.h>

#include "dance_name.h"
#include "dance_test.h"

/* valid - dance_name_check on a C string. */
static int valid(const char *s)
{
    const char *why = NULL;
    int ok = dance_name_check(s, strlen(s), &why);

    if (!ok)
        CU_ASSERT_PTR_NOT_NULL(why);
    return ok;
}

static void test_check(void)
{
    char long_label[70], long_name[300];

    CU_ASSERT_TRUE(valid("_mqtt-client.device1.example.com"));
    CU_ASSERT_TRUE(valid("sensor7._device.example.com"));
    CU_ASSERT_TRUE(valid("xn--bcher-kva.example"));
    CU_ASSERT_TRUE(valid("a"));
    CU_ASSERT_FALSE(valid(""));
    CU_ASSERT_FALSE(valid("device1.example.com."));
    CU_ASSERT_FALSE(valid("a..b"));
    CU_ASSERT_FALSE(valid(".a"));
    CU_ASSERT_FALSE(valid("a b.example"));
    CU_ASSERT_FALSE(valid("a\\046b.example"));
    CU_ASSERT_FALSE(valid("*.example"));
    CU_ASSERT_FALSE(valid("b\xc3\xbc"
                          "cher.example")); /* a U-label */
    memset(long_label, 'a', 64);
    long_label[64] = '\0';
    CU_ASSERT_FALSE(valid(long_label));
    long_label[63] = '\0';
    CU_ASSERT_TRUE(valid(long_label));
    /* 4 x 63 + 3 dots = 255 octets: too long; 253 is the limit. */
    snprintf(long_name, sizeof(long_name), "%s.%s.%s.%s", long_label,
             long_label, long_label, long_label);
    CU_ASSERT_FALSE(valid(long_name));
    long_name[253] = '\0';
    CU_ASSERT_TRUE(valid(long_name));
    /* An embedded NUL is not a name character. */
    CU_ASSERT_FALSE(dance_name_check("ab\0c", 4, &(const char *){NULL}));
}

static void test_codec(void)
{
    unsigned char buf[DANCE_NAME_MAX + 1];
    char out[DANCE_NAME_MAX + 1];
    const char *why = NULL;
    size_t n = dance_name_encode("_c.dev1.example", buf, sizeof(buf));

    CU_ASSERT_EQUAL(n, 16);
    CU_ASSERT_EQUAL(buf[0], 15);
    CU_ASSERT_EQUAL(dance_name_decode(buf, n, out, &why), DANCE_WIRE_NAME);
    CU_ASSERT_STRING_EQUAL(out, "_c.dev1.example");
    /* The zero-length form (client-auth-13's CertificateRequest). */
    CU_ASSERT_EQUAL(dance_name_encode("", buf, sizeof(buf)), 1);
    CU_ASSERT_EQUAL(buf[0], 0);
    CU_ASSERT_EQUAL(dance_name_decode(buf, 1, out, &why), DANCE_WIRE_ZERO_NAME);
    CU_ASSERT_EQUAL(dance_name_decode(buf, 0, out, &why), DANCE_WIRE_EMPTY);
    /* Refuses to encode what it would refuse to accept. */
    CU_ASSERT_EQUAL(dance_name_encode("bad name", buf, sizeof(buf)), 0);
    CU_ASSERT_EQUAL(dance_name_encode("a.b", buf, 3), 0);
}

static void test_decode_hostile(void)
{
    char out[DANCE_NAME_MAX + 1];
    const char *why = NULL;
    unsigned char big[300];
    static const unsigned char short_len[] = {5, 'a', 'b'};
    static const unsigned char long_len[] = {1, 'a', 'b'};
    static const unsigned char bad_char[] = {3, 'a', ';', 'b'};
    static const unsigned char nul[] = {3, 'a', 0, 'b'};
    static const unsigned char dot[] = {2, 'a', '.'};

    CU_ASSERT_EQUAL(dance_name_decode(short_len, sizeof(short_len), out, &why),
                    DANCE_WIRE_MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(why);
    CU_ASSERT_EQUAL(dance_name_decode(long_len, sizeof(long_len), out, &why),
                    DANCE_WIRE_MALFORMED);
    CU_ASSERT_EQUAL(dance_name_decode(bad_char, sizeof(bad_char), out, &why),
                    DANCE_WIRE_MALFORMED);
    CU_ASSERT_EQUAL(dance_name_decode(nul, sizeof(nul), out, &why),
                    DANCE_WIRE_MALFORMED);
    CU_ASSERT_EQUAL(dance_name_decode(dot, sizeof(dot), out, &why),
                    DANCE_WIRE_MALFORMED);
    /* 255 name octets: the length octet fits, the name rule does not. */
    memset(big, 'a', sizeof(big));
    for (int i = 60; i < 255; i += 61)
        big[i] = '.';
    big[0] = 255;
    CU_ASSERT_EQUAL(dance_name_decode(big, 256, out, &why),
                    DANCE_WIRE_MALFORMED);
}

static void test_match(void)
{
    const char *why;

    CU_ASSERT_TRUE(
        dance_name_match("*.devices.example.com", "a.devices.example.com"));
    CU_ASSERT_TRUE(dance_name_match("*.devices.example.com",
                                    "_mqtt-client.a.devices.example.com"));
    CU_ASSERT_FALSE(
        dance_name_match("*.devices.example.com", "devices.example.com"));
    CU_ASSERT_FALSE(
        dance_name_match("*.devices.example.com", "a.devices.example.org"));
    CU_ASSERT_FALSE(
        dance_name_match("*.devices.example.com", "a.xdevices.example.com"));
    CU_ASSERT_TRUE(dance_name_match("_ns-client.*.example.net",
                                    "_ns-client.ns1.example.net"));
    CU_ASSERT_FALSE(dance_name_match("_ns-client.*.example.net",
                                     "_ns-client.a.b.example.net"));
    CU_ASSERT_FALSE(dance_name_match("_ns-client.*.example.net",
                                     "_js-client.ns1.example.net"));
    CU_ASSERT_TRUE(
        dance_name_match("Device1.Example.COM", "device1.example.com"));
    CU_ASSERT_FALSE(
        dance_name_match("device1.example.com", "x.device1.example.com"));
    CU_ASSERT_TRUE(dance_pattern_check("*.a.example", &why));
    CU_ASSERT_TRUE(dance_pattern_check("_s.*.example", &why));
    CU_ASSERT_FALSE(dance_pattern_check("a*.example", &why));
    CU_ASSERT_FALSE(dance_pattern_check("**.example", &why));
    CU_ASSERT_FALSE(dance_pattern_check("*.example.", &why));
}

int dance_test_suite_name(void)
{
    static const CU_TestInfo tests[] = {
        {"ClientName rules", test_check},
        {"wire codec round trip", test_codec},
        {"hostile extension data", test_decode_hostile},
        {"allow-list patterns", test_match},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("name", NULL, NULL, tests);
}
