/*
 * test_net.c - suite "net": nameserver parsing and the loopback rule of
 * resolver/dance_net.c (the exchanges themselves are covered by the
 * integration tests against nsd, unbound and the fault proxy), and the
 * per-thread scope that bounds them, against a real silent UDP socket on
 * loopback.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* silent_server - a bound UDP socket that never answers; its address. */
static int silent_server(dance_net_server *srv)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    char spec[64];
    size_t n = 0;
    char err[128];

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_FATAL(fd >= 0 &&
                    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
                    getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    snprintf(spec, sizeof(spec), "127.0.0.1@%u", ntohs(sin.sin_port));
    CU_ASSERT_FATAL(dance_net_parse_servers(spec, srv, &n, err, sizeof(err)));
    return fd;
}

/* packets - datagrams waiting on fd (drained). */
static int packets(int fd)
{
    char buf[2048];
    int n = 0;

    while (recv(fd, buf, sizeof(buf), 0) > 0)
        n++;
    return n;
}

/* ask - one query for name to srv; its status, elapsed ms in *ms. */
static dance_net_status ask(const dance_net_server *srv, unsigned timeout_ms,
                            unsigned attempts, unsigned deadline_ms,
                            uint64_t *ms, char *why, size_t whylen)
{
    dance_net_params p = {.timeout_ms = timeout_ms,
                          .attempts = attempts,
                          .dnssec_ok = 1,
                          .checking_disabled = 1};
    ldns_rdf *qname = ldns_dname_new_frm_str("_c.h.silent.test.");
    ldns_pkt *reply = NULL;
    uint64_t t0 = dance_net_now_ms();
    dance_net_status st =
        dance_net_query(srv, 1, qname, LDNS_RR_TYPE_TLSA, &p, t0 + deadline_ms,
                        &reply, NULL, why, whylen);

    *ms = dance_net_now_ms() - t0;
    ldns_pkt_free(reply);
    ldns_rdf_deep_free(qname);
    return st;
}

/* The scope's deadline caps a query's own, and a timeout is counted as a
 * failure of the scope. */
static void test_scope_deadline(void)
{
    dance_net_server srv;
    int fd = silent_server(&srv);
    dance_net_scope scope = {.deadline_ms = dance_net_now_ms() + 200};
    char why[256] = "";
    uint64_t ms;

    dance_net_scope_enter(&scope);
    CU_ASSERT_EQUAL(ask(&srv, 2000, 2, 5000, &ms, why, sizeof(why)),
                    DANCE_NET_TIMEOUT);
    dance_net_scope_leave();
    CU_ASSERT(ms < 1000);
    CU_ASSERT_EQUAL(scope.failures, 1);
    CU_ASSERT_EQUAL(packets(fd), 1);
    close(fd);
}

/* Abandoned: the first packet goes out, nothing is retried. */
static void test_scope_cancelled(void)
{
    dance_net_server srv;
    int fd = silent_server(&srv);
    atomic_int cancelled;
    dance_net_scope scope = {.cancelled = &cancelled};
    char why[256] = "";
    uint64_t ms;

    atomic_init(&cancelled, 1);
    dance_net_scope_enter(&scope);
    CU_ASSERT_EQUAL(ask(&srv, 200, 4, 5000, &ms, why, sizeof(why)),
                    DANCE_NET_TIMEOUT);
    dance_net_scope_leave();
    CU_ASSERT_EQUAL(packets(fd), 1);
    CU_ASSERT(ms < 700);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "abandoned"));
    /* Outside a scope, all attempts are made. */
    CU_ASSERT_EQUAL(ask(&srv, 100, 3, 5000, &ms, why, sizeof(why)),
                    DANCE_NET_TIMEOUT);
    CU_ASSERT_EQUAL(packets(fd), 3);
    close(fd);
}

int dance_test_suite_net(void)
{
    static const CU_TestInfo tests[] = {
        {"parse: good lists", test_parse_good},
        {"parse: bad entries are named", test_parse_bad},
        {"resolv.conf", test_resolv_conf},
        {"scope deadline caps a query", test_scope_deadline},
        {"scope cancelled: no retry", test_scope_cancelled},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("net", NULL, NULL, tests);
}
