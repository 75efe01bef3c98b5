/* SPDX-License-Identifier: Apache-2.0 */
/*
 * delayrelay.c - a DNS server "far away", for benchmarks: relays UDP
 * queries to an upstream server and hands each answer back --delay-ms
 * after it came, on one thread.
 *
 *   dance-bench-relay -l 127.0.0.1 -p PORT -u 127.0.0.1@UPPORT \
 *       --delay-ms 20 [--pidfile FILE] [--log FILE]
 *
 * --log appends "udp <qname> <qtype>" per query relayed (the first three
 * fields of faultproxy's log lines), for bench/run to count queries.
 *
 * A benchmark of a restart storm runs its clients, its server and this
 * relay on the same cores: the relay stands in for network distance, which
 * costs a real server nothing, so it must cost next to nothing itself. The
 * test suite's faultproxy (tests/dnsworld) handles every query on a thread
 * of its own, about 0.3 ms of CPU per query on the benchmark machine,
 * which the storm then paid in wall clock. Here a query costs two
 * datagrams in and two out: one poll loop, one upstream socket, each
 * relayed query under an ID of the relay's (the clients' IDs may
 * collide), and answers held in arrival order (the delay is the same for
 * all) until they are due.
 *
 * UDP only (a truncated answer is relayed as it is). A query whose first
 * label is "silent" is dropped, as faultproxy does, so a flood of names
 * nobody answers can run through the same relay as the storm.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSG 4096
#define SLOTS 65536          /* one per relay ID */
#define STALE_MS 10000       /* an unanswered query's ID is reused after */
#define QUEUE_MAX (1u << 16) /* answers held at once */

typedef struct {
    int used;
    uint16_t client_id;
    struct sockaddr_storage client;
    socklen_t clen;
    uint64_t sent_ms;
} slot;

typedef struct {
    uint64_t due_ms;
    struct sockaddr_storage client;
    socklen_t clen;
    size_t len;
    uint8_t *msg;
} held;

static volatile sig_atomic_t stop;

/* on_signal - SIGTERM / SIGINT: leave the loop. */
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* die - an error, exit 1. */
static void die(const char *what)
{
    fprintf(stderr, "dance-bench-relay: %s\n", what);
    exit(1);
}

/* now_ms - CLOCK_MONOTONIC in milliseconds. */
static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* parse_addr - "IP" and port, or "IP@PORT" (port 0: take it from text),
 * into *ss; 0 on error. */
static int parse_addr(const char *text, unsigned port,
                      struct sockaddr_storage *ss, socklen_t *len)
{
    char host[128];
    const char *at = strchr(text, '@');
    size_t n = at != NULL ? (size_t)(at - text) : strlen(text);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;

    if (n >= sizeof(host))
        return 0;
    memcpy(host, text, n);
    host[n] = '\0';
    if (at != NULL)
        port = (unsigned)strtoul(at + 1, NULL, 10);
    if (port == 0 || port > 65535)
        return 0;
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
        return 1;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
        return 1;
    }
    return 0;
}

/* first_label_silent - does the query's first question name start with
 * the label "silent"? */
static int first_label_silent(const uint8_t *msg, size_t len)
{
    return len > 12 + 7 && msg[12] == 6 &&
           strncasecmp((const char *)msg + 13, "silent", 6) == 0;
}

/* log_query - append "udp <qname> <qtype>" for the query msg[0..len) to
 * f: the name in presentation form (labels as they are; bytes outside
 * letters, digits, '-' and '_' as \DDD), the type as TLSA, A, ... or
 * TYPEn. A name that does not parse is logged as "?". */
static void log_query(FILE *f, const uint8_t *msg, size_t len)
{
    char name[1100];
    size_t p = 12, o = 0;
    unsigned type;

    while (p < len && msg[p] != 0 && msg[p] < 64 &&
           o + 4 * 64 + 2 < sizeof(name)) {
        size_t l = msg[p++];

        if (p + l > len)
            break;
        for (size_t i = 0; i < l; i++) {
            uint8_t c = msg[p + i];

            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '-' || c == '_')
                name[o++] = (char)c;
            else
                o += (size_t)snprintf(name + o, sizeof(name) - o, "\\%03u", c);
        }
        name[o++] = '.';
        p += l;
    }
    if (p + 2 >= len || msg[p] != 0) {
        fprintf(f, "udp ? ?\n");
        fflush(f);
        return;
    }
    if (o == 0)
        name[o++] = '.';
    name[o] = '\0';
    type = (unsigned)(msg[p + 1] << 8 | msg[p + 2]);
    if (type == 52)
        fprintf(f, "udp %s TLSA\n", name);
    else if (type == 48)
        fprintf(f, "udp %s DNSKEY\n", name);
    else if (type == 43)
        fprintf(f, "udp %s DS\n", name);
    else if (type == 6)
        fprintf(f, "udp %s SOA\n", name);
    else
        fprintf(f, "udp %s TYPE%u\n", name, type);
    fflush(f);
}

/* take_slot - a free relay ID (reusing one unanswered for STALE_MS), or
 * -1. *cursor moves on so IDs are reused as late as possible. */
static int take_slot(slot *slots, unsigned *cursor, uint64_t now)
{
    for (unsigned k = 0; k < SLOTS; k++) {
        unsigned i = (*cursor + k) % SLOTS;

        if (!slots[i].used || now - slots[i].sent_ms > STALE_MS) {
            *cursor = (i + 1) % SLOTS;
            return (int)i;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    const char *listen_ip = "127.0.0.1", *up = NULL, *pidfile = NULL;
    FILE *log = NULL;
    unsigned port = 0, delay = 0, cursor = 0, qhead = 0, qtail = 0;
    struct sockaddr_storage lss, uss;
    socklen_t llen, ulen;
    slot *slots = calloc(SLOTS, sizeof(*slots));
    held *queue = calloc(QUEUE_MAX, sizeof(*queue));
    uint8_t buf[MAX_MSG];
    int lfd, ufd;

    if (slots == NULL || queue == NULL)
        die("out of memory");
    for (int i = 1; i < argc; i += 2) { /* OPTION VALUE pairs */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (v == NULL)
            die("usage: -l IP -p PORT -u IP@PORT --delay-ms N [--pidfile F] "
                "[--log F]");
        if (strcmp(argv[i], "-l") == 0)
            listen_ip = v;
        else if (strcmp(argv[i], "-p") == 0)
            port = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "-u") == 0)
            up = v;
        else if (strcmp(argv[i], "--delay-ms") == 0)
            delay = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(argv[i], "--pidfile") == 0)
            pidfile = v;
        else if (strcmp(argv[i], "--log") == 0) {
            if ((log = fopen(v, "a")) == NULL)
                die("cannot open the log file");
        } else
            die("unknown option");
    }
    if (up == NULL || !parse_addr(listen_ip, port, &lss, &llen) ||
        !parse_addr(up, 0, &uss, &ulen))
        die("usage: -l IP -p PORT -u IP@PORT --delay-ms N [--pidfile F]");
    lfd = socket(lss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ufd = socket(uss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || ufd < 0 || bind(lfd, (struct sockaddr *)&lss, llen) != 0 ||
        connect(ufd, (struct sockaddr *)&uss, ulen) != 0)
        die("cannot open the sockets (port taken?)");
    /* A storm's burst (a warmer sends up to 512 queries at once) must
     * not overflow the default receive buffers: a dropped query would be
     * the relay's doing, not the resolver's. FORCE needs root; else the
     * system's maximum applies. */
    for (int i = 0, sz = 8 << 20; i < 2; i++) {
        int fd = i == 0 ? lfd : ufd;

        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) != 0)
            (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    }
    if (pidfile != NULL) {
        FILE *f = fopen(pidfile, "w");

        if (f == NULL)
            die("cannot write the pid file");
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop) {
        struct pollfd pfd[2] = {{.fd = lfd, .events = POLLIN},
                                {.fd = ufd, .events = POLLIN}};
        uint64_t now = now_ms();
        int wait = -1;

        while (qhead != qtail && queue[qhead].due_ms <= now) {
            held *h = &queue[qhead];

            sendto(lfd, h->msg, h->len, 0, (struct sockaddr *)&h->client,
                   h->clen);
            free(h->msg);
            qhead = (qhead + 1) % QUEUE_MAX;
        }
        if (qhead != qtail)
            wait = (int)(queue[qhead].due_ms - now);
        if (poll(pfd, 2, wait) < 0 && errno != EINTR)
            die("poll failed");
        now = now_ms();
        if (pfd[0].revents & POLLIN) { /* a query from a client */
            struct sockaddr_storage from;
            socklen_t flen = sizeof(from);
            ssize_t n = recvfrom(lfd, buf, sizeof(buf), MSG_DONTWAIT,
                                 (struct sockaddr *)&from, &flen);
            int id;

            if (n >= 12 && log != NULL)
                log_query(log, buf, (size_t)n);
            if (n >= 12 && !first_label_silent(buf, (size_t)n) &&
                (id = take_slot(slots, &cursor, now)) >= 0) {
                slot *s = &slots[id];

                s->used = 1;
                s->client_id = (uint16_t)(buf[0] << 8 | buf[1]);
                s->client = from;
                s->clen = flen;
                s->sent_ms = now;
                buf[0] = (uint8_t)(id >> 8);
                buf[1] = (uint8_t)id;
                send(ufd, buf, (size_t)n, 0);
            }
        }
        if (pfd[1].revents & POLLIN) { /* an answer from upstream */
            ssize_t n = recv(ufd, buf, sizeof(buf), MSG_DONTWAIT);
            unsigned id = n >= 12 ? (unsigned)(buf[0] << 8 | buf[1]) : 0;
            unsigned next = (qtail + 1) % QUEUE_MAX;

            if (n >= 12 && slots[id].used && next != qhead) {
                held *h = &queue[qtail];

                if ((h->msg = malloc((size_t)n)) != NULL) {
                    buf[0] = (uint8_t)(slots[id].client_id >> 8);
                    buf[1] = (uint8_t)slots[id].client_id;
                    memcpy(h->msg, buf, (size_t)n);
                    h->len = (size_t)n;
                    h->client = slots[id].client;
                    h->clen = slots[id].clen;
                    h->due_ms = now + delay;
                    qtail = next;
                }
                slots[id].used = 0;
            }
        }
    }
    while (qhead != qtail) {
        free(queue[qhead].msg);
        qhead = (qhead + 1) % QUEUE_MAX;
    }
    free(queue);
    free(slots);
    if (log != NULL)
        fclose(log);
    close(lfd);
    close(ufd);
    return 0;
}
