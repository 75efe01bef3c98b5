/*
 * dance_stats.h - the stats file: the module's counters in the Prometheus
 * text exposition format, rewritten every DANCE_STATS_INTERVAL seconds by
 * a thread of the module's own (openssl.cnf key stats_file).
 *
 * One file per process. The path is a pattern: "%p" is replaced by the
 * process id, "%%" by "%"; a pattern without "%p" gets ".<pid>" before
 * the extension of its last component (dance.prom -> dance.4242.prom), or
 * at its end when that has none. Every sample carries a pid="<pid>" label,
 * so that node_exporter's textfile collector can read the files of several
 * worker processes from one directory without duplicate series.
 *
 * Each write goes to "<path>.tmp" (created anew, never through a link) and
 * is renamed over <path>, so a reader sees the old or the new file, never
 * a part. A forked child (nginx workers) counts from zero from the fork on
 * and writes its own file with its own pid; at exit a process writes its
 * file a last time, or removes it when it counted nothing (the nginx
 * master, a daemon's parent, `nginx -t`). Files of processes that are
 * gone stay (with their final counts) until the operator removes them.
 */
#ifndef DANCE_STATS_H
#define DANCE_STATS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "dance_async.h"
#include "dance_res.h"

/* Seconds between two writes of the stats file. */
#define DANCE_STATS_INTERVAL 5

/*
 * dance_stats_path - the file name of pattern for process pid into out
 * (len bytes). Returns 1, or 0 when pattern has a '%' other than "%p" or
 * "%%", or the name does not fit.
 */
int dance_stats_path(const char *pattern, pid_t pid, char *out, size_t len);

/*
 * dance_stats_start - write the stats file of pattern (see above) every
 * DANCE_STATS_INTERVAL seconds from now on, with the counters of res and
 * pool (borrowed: they must live as long as the process) and of the SSL
 * hooks. Once per process; later calls are no-ops. Returns 1, or 0 with a
 * message in err (bad pattern, no thread).
 */
int dance_stats_start(const char *pattern, dance_res *res, dance_async *pool,
                      char *err, size_t errlen);

/*
 * dance_stats_render - write the counters of res, pool and the SSL hooks
 * as the stats file's text, labelled with pid, to out. The counters are
 * those since dance_stats_start or, in a forked child, since the fork (0
 * before a start). Returns the sum of the counters written (0: nothing
 * counted).
 */
unsigned long long dance_stats_render(FILE *out, dance_res *res,
                                      dance_async *pool, pid_t pid);

#endif /* DANCE_STATS_H */
