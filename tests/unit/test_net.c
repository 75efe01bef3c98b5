/*
 * test_net.c - suite "net": nameserver parsing and the loopback rule of
 * resolver/dance_net.c (the exchanges themselves are covered by the
 * integration tests against nsd, unbound and the fault proxy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dance_net.h"
#include "dance_test.h"

static void test_parse_good(void)
{
    dance_net_server s[DANCE_NET_MAX_SERVERS];
    size_t n = 0;
    char err[256] = "", buf[80];

    CU_ASSERT_EQUAL_FATAL(
        dance_net_parse_servers("127.0.0.1@5354, ::1 [::1]@53,192.0.2.1", s, &n,
                                err, sizeof(err)),
        1);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_STRING_EQUAL(dance_net_server_str(&s[0], buf, sizeof(buf)),
                           "127.0.0.1@5354");
    CU_ASSERT_STRING_EQUAL(dance_net_server_str(&s[1], buf, sizeof(buf)),
                           "::1@53");
    CU_ASSERT_STRING_EQUAL(dance_net_server_str(&s[3], buf, sizeof(buf)),
                           "192.0.2.1@53");
    CU_ASSERT_TRUE(dance_net_server_is_loopback(&s[0]));
    CU_ASSERT_TRUE(dance_net_server_is_loopback(&s[1]));
    CU_ASSERT_TRUE(dance_net_server_is_loopback(&s[2]));
    CU_ASSERT_FALSE(dance_net_server_is_loopback(&s[3]));
}

/* bad - parsing list fails and the message quotes needle. */
static void bad(const char *list, const char *needle)
{
    dance_net_server s[DANCE_NET_MAX_SERVERS];
    size_t n = 0;
    char err[256] = "";

    CU_ASSERT_EQUAL(dance_net_parse_servers(list, s, &n, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
}

static void test_parse_bad(void)
{
    bad("127.0.0.1@0", "127.0.0.1@0");
    bad("127.0.0.1@65536", "127.0.0.1@65536");
    bad("127.0.0.1@", "127.0.0.1@");
    bad("127.0.0.1@53x", "127.0.0.1@53x");
    bad("127.0.0.1@-5", "127.0.0.1@-5");
    bad("ns.example.test", "ns.example.test");
    bad("127.0.0.1, 300.1.1.1", "300.1.1.1");
    bad("", "no nameserver");
    bad(" , ", "no nameserver");
    bad("1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 "
        "1.1.1.9",
        "more than");
}

static void test_resolv_conf(void)
{
    char path[] = "/tmp/dance-resolv-XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    dance_net_server s[DANCE_NET_MAX_SERVERS];
    size_t n = 0;
    char err[256] = "", buf[80];

    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs("# comment\nsearch example.test\nnameserver 127.0.0.53\n"
          "nameserver fe80::1%eth0\noptions edns0\nnameserver ::1\n",
          fp);
    fclose(fp);
    CU_ASSERT_EQUAL(
        dance_net_servers_from_resolv_conf(path, s, &n, err, sizeof(err)), 1);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_STRING_EQUAL(dance_net_server_str(&s[0], buf, sizeof(buf)),
                           "127.0.0.53@53");
    CU_ASSERT_STRING_EQUAL(dance_net_server_str(&s[1], buf, sizeof(buf)),
                           "::1@53");
    unlink(path);
    CU_ASSERT_EQUAL(
        dance_net_servers_from_resolv_conf(path, s, &n, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
}

int dance_test_suite_net(void)
{
    static const CU_TestInfo tests[] = {
        {"parse: good lists", test_parse_good},
        {"parse: bad entries are named", test_parse_bad},
        {"resolv.conf", test_resolv_conf},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("net", NULL, NULL, tests);
}
