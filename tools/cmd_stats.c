/*
 * cmd_stats.c - `dance stats FILE...`: the stats files the provider writes
 * (openssl.cnf stats_file, Prometheus text format) summed over processes
 * and printed for humans.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dance_cmd.h"

static const char stats_usage[] =
    "usage: dance stats FILE...\n"
    "\n"
    "Print the counters of the stats files the dance provider writes\n"
    "(openssl.cnf: stats_file = PATH, one file per process), summed over\n"
    "every FILE: e.g. 'dance stats /var/lib/dance/dance.*.prom' for all the\n"
    "worker processes of a server. Counters that are zero in every file\n"
    "are left out; the header says which processes wrote the files and\n"
    "which of them are gone (their files keep their final counts).\n"
    "\n"
    "Exit status: 0, 1 usage error, 2 a FILE cannot be read or is not a\n"
    "stats file.\n";

#define MAX_SERIES 512
#define MAX_PIDS 256
#define KEY_LEN 256

/* One summed series: a metric name and its labels other than pid. */
typedef struct {
    char name[KEY_LEN];
    char labels[KEY_LEN]; /* label values, space-separated */
    double value;
    int is_time; /* *_timestamp_seconds: the newest, not the sum */
} series;

typedef struct {
    series s[MAX_SERIES];
    size_t n;
    long pids[MAX_PIDS];
    size_t npids;
} totals;

/* find_series - the series (name, labels), added if new; NULL when full. */
static series *find_series(totals *t, const char *name, const char *labels)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->s[i].name, name) == 0 &&
            strcmp(t->s[i].labels, labels) == 0)
            return &t->s[i];
    if (t->n == MAX_SERIES)
        return NULL;
    snprintf(t->s[t->n].name, KEY_LEN, "%s", name);
    snprintf(t->s[t->n].labels, KEY_LEN, "%s", labels);
    t->s[t->n].value = 0;
    t->s[t->n].is_time = strstr(name, "_timestamp_seconds") != NULL;
    return &t->s[t->n++];
}

/* note_pid - remember a process id seen in a pid label. */
static void note_pid(totals *t, long pid)
{
    for (size_t i = 0; i < t->npids; i++)
        if (t->pids[i] == pid)
            return;
    if (t->npids < MAX_PIDS)
        t->pids[t->npids++] = pid;
}

/* parse_labels - the label set in p (after '{', up to '}') into values
 * (the values other than pid, space-separated) and *pid. Returns the
 * character after '}', or NULL when malformed. */
static const char *parse_labels(const char *p, char *values, size_t len,
                                long *pid)
{
    size_t used = 0;

    values[0] = '\0';
    while (*p != '}') {
        const char *eq = strchr(p, '='), *end;

        if (eq == NULL || eq[1] != '"' || (end = strchr(eq + 2, '"')) == NULL)
            return NULL;
        if (eq - p == 3 && strncmp(p, "pid", 3) == 0) {
            *pid = strtol(eq + 2, NULL, 10);
        } else {
            int n = snprintf(values + used, len - used, "%s%.*s",
                             used > 0 ? " " : "", (int)(end - eq - 2), eq + 2);

            if (n < 0 || (size_t)n >= len - used)
                return NULL;
            used += (size_t)n;
        }
        p = end + 1;
        if (*p == ',')
            p++;
        else if (*p != '}')
            return NULL;
    }
    return p + 1;
}

/* add_file - add the samples of one stats file to t. Returns 1, or 0 with
 * a message on stderr. */
static int add_file(totals *t, const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[1024];
    int samples = 0, lineno = 0;

    if (fp == NULL) {
        fprintf(stderr, "dance stats: %s: %s\n", path, strerror(errno));
        return 0;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        char name[KEY_LEN], labels[KEY_LEN] = "", *end;
        const char *p = line;
        size_t nlen = strcspn(line, "{ \n");
        long pid = -1;
        series *s;
        double v;

        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (nlen == 0 || nlen >= sizeof(name))
            goto bad;
        memcpy(name, line, nlen);
        name[nlen] = '\0';
        p = line + nlen;
        if (*p == '{' &&
            (p = parse_labels(p + 1, labels, sizeof(labels), &pid)) == NULL)
            goto bad;
        errno = 0;
        v = strtod(p, &end);
        if (end == p || errno != 0 || (*end != '\n' && *end != '\0'))
            goto bad;
        if ((s = find_series(t, name, labels)) == NULL) {
            fprintf(stderr, "dance stats: too many series\n");
            fclose(fp);
            return 0;
        }
        s->value = s->is_time ? (v > s->value ? v : s->value) : s->value + v;
        if (pid > 0)
            note_pid(t, pid);
        samples++;
    }
    fclose(fp);
    if (samples > 0)
        return 1;
    fprintf(stderr, "dance stats: %s: no samples (not a stats file?)\n", path);
    return 0;
bad:
    fprintf(stderr, "dance stats: %s:%d: not in the Prometheus text format\n",
            path, lineno);
    fclose(fp);
    return 0;
}

/* family_total - the sum of the series of name (all its label sets), and
 * whether it has labels at all. */
static double family_total(const totals *t, const char *name, int *labelled)
{
    double sum = 0;

    *labelled = 0;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->s[i].name, name) == 0) {
            sum += t->s[i].value;
            *labelled |= t->s[i].labels[0] != '\0';
        }
    return sum;
}

/* print_totals - one line per metric (its total), then its non-zero label
 * sets, in the order of the files. */
static void print_totals(const totals *t)
{
    for (size_t i = 0; i < t->n; i++) {
        int labelled, seen = 0;
        double sum;

        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(t->s[j].name, t->s[i].name) == 0;
        if (seen || t->s[i].is_time)
            continue;
        sum = family_total(t, t->s[i].name, &labelled);
        printf("%-44s %12.0f\n", t->s[i].name, sum);
        for (size_t j = i; labelled && j < t->n; j++)
            if (strcmp(t->s[j].name, t->s[i].name) == 0 && t->s[j].value != 0)
                printf("    %-40s %12.0f\n", t->s[j].labels, t->s[j].value);
    }
}

/* print_header - the files, their processes (running or gone) and the
 * age of the newest write. */
static void print_header(const totals *t, int nfiles)
{
    double newest = 0;

    printf("%d file%s, process%s", nfiles, nfiles == 1 ? "" : "s",
           t->npids == 1 ? "" : "es");
    for (size_t i = 0; i < t->npids; i++)
        printf(" %ld%s", t->pids[i],
               kill((pid_t)t->pids[i], 0) != 0 && errno == ESRCH ? " (gone)"
                                                                 : "");
    for (size_t i = 0; i < t->n; i++)
        if (t->s[i].is_time && t->s[i].value > newest)
            newest = t->s[i].value;
    if (newest > 0)
        printf("; newest written %.0f s ago", (double)time(NULL) - newest);
    printf("\n");
}

/* dance_cmd_stats - `dance stats FILE...`. */
int dance_cmd_stats(int argc, char **argv)
{
    totals *t;
    int ok = 1;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(stats_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? DANCE_EXIT_USAGE : 0;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        fprintf(stderr, "dance stats: out of memory\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        ok &= add_file(t, argv[i]);
    if (ok) {
        print_header(t, argc - 1);
        print_totals(t);
    }
    free(t);
    return ok ? 0 : 2;
}
