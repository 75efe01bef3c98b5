#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""report.py - the results table of bench/run, with the first paper's
figures beside ours, and the summary line.

    report.py HEADER_FILE RESULTS_FILE...

With several RESULTS_FILEs (several runs), every figure is the median
over all runs (rounds are paired with the baseline of their own run).
A RESULTS_FILE holds one line per measurement: "key=value ..." words (the
tags bench/run puts in front, then dance-bench's "result ..." line, or
the memory / single-flight / refresh / callgrind lines). Every ratio is
taken against the baseline of the same TLS version; repeated rounds are
reduced to their median.
"""
import os
import statistics
import sys

# First paper (Ayoub et al., WMNC 2022), mean join duration in seconds.
PAPER = {
    "baseline": 0.412,
    "nocache": 1.037,
    "warm0": 0.442,
    "rtt20": 0.489,   # Google public resolver
    "rtt250": 0.887,  # resolver in Singapore
}


def parse(path, run):
    """parse - every line of one results file as a dict, tagged run."""
    rows = []
    with open(path) as f:
        for line in f:
            d = {}
            for w in line.split():
                if "=" in w:
                    k, v = w.split("=", 1)
                    d[k] = v
            if d:
                d["run"] = str(run)
                d["round"] = "%d.%s" % (run, d.get("round", "1"))
                rows.append(d)
    return rows


def num(d, k, default=0.0):
    """num - a numeric field, default when absent."""
    try:
        return float(d[k])
    except (KeyError, ValueError):
        return default


def med(values):
    """med - median, or nan for nothing."""
    values = list(values)
    return statistics.median(values) if values else float("nan")


# Floods beside the storm (bench/run's flood_kind tag): what the row says.
FLOODS = (("nxdomain", "flood: unknown names under example.test "
           "(NXDOMAIN)"),
          ("silent", "flood: names the server never answers"))


def storm(runs):
    """storm - the restart storm section (issue 14): per resolver distance
    and mode, time until the last of N new names is authenticated against
    the CA baseline's storm of the same round; then the same 20 ms storm
    beside each flood of unknown names. Returns (N, the median ratio of
    validate at 20 ms, the median DNS-only effect of the NXDOMAIN flood),
    for the summary line."""
    rows = [r for r in runs if r.get("scen") == "storm"]
    if not rows:
        return "?", float("nan"), float("nan")
    print()
    print("## Restart storm: N new names at once")
    print()
    print("| storm | dnssec | n | conc | rounds | time to last auth s | hs/s "
          "| × baseline | extra RTTs over baseline | CPU ms / hs (× baseline) "
          "| server CPU ms / hs (× baseline) "
          "| longest hs ms | lookups waited for | DNS queries | peak RSS MiB "
          "| failed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    result = ("?", float("nan"))
    floods = [r for r in runs if r.get("scen") == "storm-flood"]
    groups = [("storm", 20, None, rows), ("storm250", 250, None, rows)]
    groups += [("storm", 20, kind, [r for r in floods
                                    if r.get("flood_kind") == kind])
               for kind, _ in FLOODS]
    for label, rtt, kind, grp in groups:
        for mode in ("none", "validate", "trust-ad"):
            rs = [r for r in grp if r["label"] == label and r["mode"] == mode]
            if not rs:
                continue
            ratios, extras, cpus, srvs = [], [], [], []
            for r in rs:
                b = [x for x in grp if x["label"] == label and
                     x["mode"] == "none" and x["round"] == r["round"]]
                if b:
                    ratios.append(num(r, "wall_s") / num(b[0], "wall_s"))
                    if num(b[0], "cpu_s") > 0:
                        cpus.append(num(r, "cpu_s") / num(b[0], "cpu_s"))
                    if num(b[0], "srv_cpu_s") > 0:
                        srvs.append(num(r, "srv_cpu_s") /
                                    num(b[0], "srv_cpu_s"))
                    extras.append((num(r, "wall_s") - num(b[0], "wall_s")) *
                                  1e3 / rtt)
            n = int(num(rs[0], "n"))
            title = "resolver %d ms away" % rtt if mode != "none" \
                else "CA baseline (n as for %d ms)" % rtt
            if kind is not None:
                title = "%s + %s, K = %s" % (
                    title if mode != "none" else "CA baseline",
                    dict(FLOODS)[kind], rs[0].get("flood", "?"))
            print("| %s | %s | %d | %s | %d | %.3f | %.0f | %s | %s | %s | "
                  "%s | %.0f | %s | %s | %.1f | %d |" % (
                      title,
                      mode if mode != "none" else "—", n, rs[0]["conc"],
                      len(rs), med(num(r, "wall_s") for r in rs),
                      med(num(r, "hps") for r in rs),
                      "%.3f (%s)" % (med(ratios), ", ".join(
                          "%.3f" % x for x in ratios))
                      if mode != "none" else "1.000",
                      "%.2f" % med(extras) if mode != "none" else "—",
                      "%.3f (%.3f)" % (med(1e3 * num(r, "cpu_s") / n
                                           for r in rs), med(cpus))
                      if cpus or mode == "none" else "?",
                      "%.3f (%.3f)" % (med(1e3 * num(r, "srv_cpu_s") / n
                                           for r in rs), med(srvs))
                      if srvs or mode == "none" else "?",
                      med(num(r, "max_ms") for r in rs),
                      "%.0f" % med(num(r, "queued") for r in rs)
                      if mode != "none" else "—",
                      "%.0f" % med(num(r, "udp") + num(r, "tcp") for r in rs)
                      if mode != "none" else "—",
                      med(num(r, "maxrss_kb") for r in rs) / 1024,
                      sum(int(num(r, "fail")) for r in rs)))
            if label == "storm" and mode == "validate" and kind is None:
                result = (n, med(ratios))
    print()
    print("Time to last auth: from the first client's connect() until the "
          "last handshake's server verdict (wall clock of the measured "
          "phase). × baseline: per round against the CA baseline's storm of "
          "the same round, median (rounds); a row with a flood against the "
          "CA baseline beside the same flood. Extra RTTs: (DANE − baseline) / "
          "resolver delay. CPU: user + system time of the whole process "
          "(clients and server) over the storm, per handshake, and its "
          "ratio to the baseline's of the same round (hardly moved by other "
          "jobs on a shared machine, unlike wall clock); server CPU: the "
          "server threads' share (lookups run on them). Peak RSS: the "
          "whole dance-bench process. Lookups and DNS queries of a flood "
          "row include the flood's.")
    effect = flood_table(rows, floods)
    list_table(rows, [r for r in runs if r.get("scen") == "storm-list"])
    return result + (effect,)


def list_table(rows, lists):
    """list_table - the storms again with the server given its population
    (prewarm_file), against the CA baseline's storm of the same round.
    Times count from the server's first handshake (the chain warm-up,
    which starts the warmer), for both."""
    if not lists:
        return
    print()
    print("### A known population (prewarm_file): the same storms")
    print()
    print("| storm | dnssec | n | rounds | time to last auth s, from the "
          "first handshake (CA) | × CA (rounds) | extra RTTs over CA "
          "(rounds) | chain warm-up s | names warmed (handed over) "
          "| lookups waited for | DNS queries | longest hs ms | failed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, rtt in (("storm", 20), ("storm250", 250)):
        for mode in ("validate", "trust-ad"):
            rs = [r for r in lists if r["label"] == label and
                  r["mode"] == mode]
            if not rs:
                continue
            ratios, extras, cas = [], [], []
            for r in rs:
                b = [x for x in rows if x["label"] == label and
                     x["mode"] == "none" and x["round"] == r["round"]]
                if not b or num(b[0], "from_first_s") <= 0:
                    continue
                ca = num(b[0], "from_first_s")
                cas.append(ca)
                ratios.append(num(r, "from_first_s") / ca)
                extras.append((num(r, "from_first_s") - ca) * 1e3 / rtt)
            print("| resolver %d ms away, population known | %s | %d | %d "
                  "| %.3f (%.3f) | %.3f (%s) | **%.2f** (%s) | %.3f "
                  "| %.0f (%.0f) | %.0f | %.0f | %.0f | %d |" % (
                      rtt, mode, int(num(rs[0], "n")), len(rs),
                      med(num(r, "from_first_s") for r in rs), med(cas),
                      med(ratios), ", ".join("%.3f" % x for x in ratios),
                      med(extras), ", ".join("%.2f" % x for x in extras),
                      med(num(r, "from_first_s") - num(r, "wall_s")
                          for r in rs),
                      med(num(r, "total_prewarmed") for r in rs),
                      med(num(r, "total_prewarm_handed_over") for r in rs),
                      med(num(r, "queued") for r in rs),
                      med(num(r, "total_udp") + num(r, "total_tcp")
                          for r in rs),
                      med(num(r, "max_ms") for r in rs),
                      sum(int(num(r, "fail")) for r in rs)))
    print()
    print("From the first handshake: from the start of the unmeasured "
          "chain warm-up handshake (the server's first, which starts the "
          "warmer; in validate mode it also fetches the DNSKEY/DS chain, "
          "a few round trips) until the last measured handshake's end; the "
          "CA baseline of the same round measured the same way. Lookups "
          "waited for: measured handshakes whose name was not yet cached "
          "(their own lookup, or one of the warmer's they joined). DNS "
          "queries: all the process sent, chain warm-up and warmer "
          "included.")


def flood_table(rows, floods):
    """flood_table - per flood kind, the legitimate clients' time to last
    auth with the flood over without it (same round), for DANE and for the
    CA baseline, and their quotient: the effect of the flood on DNS alone
    (the CPU the flood takes is in both). Returns the median effect of the
    NXDOMAIN flood."""
    if not floods:
        return float("nan")
    print()
    print("### Flood beside the storm: legitimate clients, with / without")
    print()
    print("| flood | K | DANE validate 20 ms: flood / no flood (rounds) "
          "| CA: flood / no flood (rounds) | DNS-only effect (rounds) "
          "| longest legit hs ms: DANE / CA (timeout_ms) "
          "| flood hs DANE: attempted / refused / accepted, longest ms "
          "| flood hs CA: attempted / refused / accepted |")
    print("|---|---|---|---|---|---|---|---|")
    effect_nx = float("nan")
    for kind, what in FLOODS:
        fl = [r for r in floods if r.get("flood_kind") == kind]
        if not fl:
            continue
        dane, ca, eff = [], [], []
        for r in fl:
            if r["mode"] != "validate":
                continue
            rnd = r["round"]

            def one(grp, mode):
                x = [y for y in grp if y["label"] == "storm" and
                     y["mode"] == mode and y["round"] == rnd]
                return num(x[0], "wall_s") if x else float("nan")

            d = one([r], "validate") / one(rows, "validate")
            c = one(fl, "none") / one(rows, "none")
            dane.append(d)
            ca.append(c)
            eff.append(d / c)

        def rounds(v):
            return "%.3f (%s)" % (med(v), ", ".join("%.3f" % x for x in v))

        def counts(mode):
            x = [r for r in fl if r["mode"] == mode]
            return "%d / %d / %d" % tuple(
                sum(int(num(r, k)) for r in x)
                for k in ("flood_n", "flood_refused", "flood_accepted"))

        dv = [r for r in fl if r["mode"] == "validate"]
        cv = [r for r in fl if r["mode"] == "none"]
        print("| %s | %s | %s | %s | **%s** | %.0f / %.0f (%s) | %s, %.0f "
              "| %s |" % (
                  what, fl[0].get("flood", "?"), rounds(dane), rounds(ca),
                  rounds(eff), max(num(r, "max_ms") for r in dv) if dv
                  else float("nan"),
                  max(num(r, "max_ms") for r in cv) if cv else float("nan"),
                  dv[0].get("timeout_ms", "?") if dv else "?",
                  counts("validate"),
                  max(num(r, "flood_max_ms") for r in dv) if dv
                  else float("nan"), counts("none")))
        if kind == "nxdomain":
            effect_nx = med(eff)
    print()
    print("Flood / no flood: per round, the legitimate storm's time to last "
          "auth beside the flood over the same storm without it (same "
          "names, same round). DNS-only effect: DANE's quotient over the "
          "CA's (target ≤ 1.10: a flood changes the figures for legitimate "
          "clients by at most 10%). Longest legit hs: the longest "
          "legitimate handshake over the rounds (the CA's shows how long "
          "the machine alone made one wait). Flood hs: every flood "
          "handshake must be refused (accepted must be 0).")
    accepted = sum(int(num(r, "flood_accepted")) for r in floods)
    if accepted:
        print()
        print("SECURITY: %d flood handshakes (unknown names) were accepted" %
              accepted)
    return effect_nx


def main():
    """main - print the table, the derived figures and the summary line."""
    header, rows = sys.argv[1], []
    for i, path in enumerate(sys.argv[2:]):
        rows += parse(path, i + 1)
    with open(header) as f:
        print(f.read().rstrip())
    runs = [r for r in rows if "label" in r]
    fails = sum(int(num(r, "fail")) for r in runs)

    def pick(scen, mode, tls, rtt=None):
        return [r for r in runs if r.get("scen") == scen
                and r.get("mode") == mode and r.get("tls") == tls
                and (rtt is None or r.get("rtt") == str(rtt))]

    base = {}
    for tls in ("1.3", "1.2"):
        b = pick("baseline", "none", tls)
        if b:
            base[tls] = {k: med(num(r, k) for r in b)
                         for k in ("mean_ms", "p50_ms", "p99_ms", "hps")}

    print()
    print("| scenario | TLS | dnssec | n | hs/s | mean ms | p50 ms | p99 ms "
          "| × baseline (mean) | lookups waited for / hs | DNS queries / hs "
          "| paper × baseline |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    scen_rows = [
        ("baseline: private CA, no DANE", "baseline", 0, "baseline"),
        ("DANE, local resolver, no cache", "nocache", 0, "nocache"),
        ("DANE, local resolver, cache (warm)", "warm", 0, "warm0"),
        ("DANE, resolver 20 ms away, cold", "cold", 20, "rtt20"),
        ("DANE, resolver 20 ms away, warm", "warm", 20, None),
        ("DANE, resolver 250 ms away, cold", "cold", 250, "rtt250"),
        ("DANE, resolver 250 ms away, warm", "warm", 250, None),
        ("DANE, 20 ms, cold, hello_name = off", "cold-hellooff", 20, None),
    ]
    warm_ratio = {}
    for tls in ("1.3", "1.2"):
        if tls not in base:
            continue
        for title, scen, rtt, paper in scen_rows:
            modes = ["none"] if scen == "baseline" else ["validate",
                                                         "trust-ad"]
            for mode in modes:
                rs = pick(scen, mode, tls, rtt)
                if not rs:
                    continue
                m = {k: med(num(r, k) for r in rs)
                     for k in ("mean_ms", "p50_ms", "p99_ms", "hps")}
                n = sum(int(num(r, "n")) for r in rs)
                if scen == "warm" and rtt == 0:
                    # Pair each round with the baseline of the same round.
                    ratios = []
                    for r in rs:
                        bb = [x for x in pick("baseline", "none", tls)
                              if x.get("round") == r.get("round")]
                        if bb:
                            ratios.append(num(r, "mean_ms") /
                                          num(bb[0], "mean_ms"))
                    ratio = med(ratios)
                    warm_ratio[(mode, tls)] = (ratio, ratios)
                else:
                    ratio = m["mean_ms"] / base[tls]["mean_ms"]
                queued = sum(num(r, "queued") for r in rs)
                queries = sum(num(r, "udp") + num(r, "tcp") for r in rs)
                path = "—" if scen == "baseline" else \
                    "%.2f | %.2f" % (queued / n if n else 0,
                                     queries / n if n else 0)
                if scen == "baseline":
                    path = "— | —"
                pap = "%.2f" % (PAPER[paper] / PAPER["baseline"]) \
                    if paper else "—"
                print("| %s | %s | %s | %d | %.0f | %.3f | %.3f | %.3f | "
                      "%.3f | %s | %s |" % (
                          title, tls, mode if mode != "none" else "—", n,
                          m["hps"], m["mean_ms"], m["p50_ms"], m["p99_ms"],
                          ratio, path, pap))
    print()
    print("Paper: CA baseline 0.412 s per join; DANE local resolver without "
          "cache 1.037 s; with cache 0.442 s; public resolver (8.8.8.8) "
          "0.489 s; far resolver (Singapore) 0.887 s. Its remote figures "
          "are beside our cold rows: every join there still asked a remote "
          "resolver, as our cold handshakes do; the paper had no cache in "
          "the TLS process, so our remote warm rows have no counterpart.")

    print()
    print("## Warm cache: DANE over the CA baseline")
    print()
    print("Time per handshake (mean), DANE warm / baseline of the same "
          "round:")
    print()
    pooled = []
    for (mode, tls), (ratio, ratios) in sorted(warm_ratio.items()):
        pooled += ratios
        print("- %s, TLS %s: median %.4f (rounds: %s)" % (
            mode, tls, ratio, ", ".join("%.4f" % x for x in ratios)))
    print("- all %d rounds pooled: median %.4f" % (len(pooled), med(pooled)))
    cg = {}
    for r in rows:
        if r.get("scen") == "callgrind":
            cg[(r["conf"], r["tls"], int(r["n"]))] = float(r["ir"])
    cg_ratio = {}
    if cg:
        print()
        print("Instructions per handshake (callgrind, client and server "
              "together, (Ir(N2) - Ir(N1)) / (N2 - N1); last run):")
        print()
        ns = sorted({k[2] for k in cg})
        for tls in ("1.3", "1.2"):
            per = {}
            for c in ("base", "validate-0", "trust-ad-0"):
                if (c, tls, ns[0]) in cg and (c, tls, ns[-1]) in cg:
                    per[c] = (cg[(c, tls, ns[-1])] - cg[(c, tls, ns[0])]) \
                        / (ns[-1] - ns[0])
            if "base" not in per:
                continue
            for c in ("validate-0", "trust-ad-0"):
                if c in per:
                    cg_ratio[(c, tls)] = per[c] / per["base"]
            print("- TLS %s: baseline %.0f; DANE validate %s; trust-ad %s" % (
                tls, per["base"],
                "%.0f (×%.4f)" % (per["validate-0"],
                                  cg_ratio[("validate-0", tls)])
                if "validate-0" in per else "?",
                "%.0f (×%.4f)" % (per["trust-ad-0"],
                                  cg_ratio[("trust-ad-0", tls)])
                if "trust-ad-0" in per else "?"))

    print()
    print("## Cold: extra latency per resolver round trip")
    print()
    extra = []
    for tls in ("1.3", "1.2"):
        for mode in ("validate", "trust-ad"):
            for rtt in (20, 250):
                c, w = pick("cold", mode, tls, rtt), pick("warm", mode, tls,
                                                          rtt)
                if not c or not w:
                    continue
                d50 = med(num(r, "p50_ms") for r in c) - \
                    med(num(r, "p50_ms") for r in w)
                paired = [r for r in c if "extra_p50_ms" in r]
                if paired:
                    # Each cold handshake minus the warm one right after it.
                    d50 = med(num(r, "extra_p50_ms") for r in paired)
                dmean = med(num(r, "mean_ms") for r in c) - \
                    med(num(r, "mean_ms") for r in w)
                extra.append(d50 / rtt)
                q = sum(num(r, "udp") + num(r, "tcp") for r in c) / \
                    max(1, sum(int(num(r, "n")) for r in c))
                line = ("- %s, TLS %s, %d ms: +%.2f ms %s (%.3f RTT), "
                        "+%.2f ms mean against the warm run (%.3f RTT); "
                        "%.2f DNS queries per cold handshake" % (
                            mode, tls, rtt, d50,
                            "median of paired differences" if paired
                            else "p50 against the warm run", d50 / rtt,
                            dmean, dmean / rtt, q))
                if rtt == 20:
                    off = pick("cold-hellooff", mode, tls, 20)
                    if off:
                        offp = [r for r in off if "extra_p50_ms" in r]
                        if paired and offp:
                            hid = med(num(r, "extra_p50_ms") for r in offp) \
                                - d50
                        else:
                            hid = med(num(r, "p50_ms") for r in off) - \
                                med(num(r, "p50_ms") for r in c)
                        line += ("; the hello profile hides %.2f ms "
                                 "(cold with hello_name = off: +%.2f ms "
                                 "p50)" % (hid, d50 + hid))
                print(line)

    print()
    print("## Hot names, single flight, load, memory")
    print()
    nruns = len({r["run"] for r in rows})
    print("(one value per run, run 1 first)" if nruns > 1 else "")

    def vals(scen, mode, key, fmt="%s"):
        return "/".join(fmt % r[key] for r in rows if r.get("scen") == scen
                        and r.get("mode") == mode and key in r)

    for mode in ("validate", "trust-ad", "trust-ad-prefetch"):
        if not vals("refresh", mode, "n"):
            continue
        print("- refresh, %s: TTL %s s, a handshake every 50 ms for %s s: "
              "handshakes failed %s; handshake-path lookups (jobs queued) "
              "%s; background refreshes %s; TLSA queries at the relay %s" % (
                  mode, vals("refresh", mode, "ttl").split("/")[0],
                  vals("refresh", mode, "wall_s").split("/")[0].split(".")[0],
                  vals("refresh", mode, "fail"), vals("refresh", mode, "queued"),
                  vals("refresh", mode, "refreshes"),
                  vals("refresh-queries", mode, "tlsa_queries")))
    for mode in ("validate", "trust-ad"):
        if not vals("singleflight", mode, "n"):
            continue
        print("- single flight, %s: 100 concurrent handshakes for one "
              "uncached name through the 250 ms relay: ok %s; TLSA queries "
              "for it at the relay %s; jobs queued %s, shared %s" % (
                  mode, vals("singleflight", mode, "ok"),
                  vals("singleflight-queries", mode, "tlsa_queries"),
                  vals("singleflight", mode, "queued"),
                  vals("singleflight", mode, "shared")))
    for mode in ("validate", "trust-ad"):
        lw = [r for r in runs if r.get("scen") == "load-warm"
              and r["mode"] == mode]
        pairs = []
        for r in lw:
            b = [x for x in runs if x.get("scen") == "load-baseline"
                 and x.get("mode") == mode and x["run"] == r["run"]]
            if b:
                pairs.append((r, b[0]))
        if pairs:
            print("- load, %s, 4 concurrent clients, warm names, resolver "
                  "250 ms away: %s hs/s vs baseline %s hs/s (median ×%.3f); "
                  "handshake-path lookups %s" % (
                      mode, "/".join("%.0f" % num(r, "hps") for r, _ in pairs),
                      "/".join("%.0f" % num(b, "hps") for _, b in pairs),
                      med(num(r, "hps") / num(b, "hps") for r, b in pairs),
                      "/".join(r["queued"] for r, _ in pairs)))
    seen = set()
    for r in rows:
        if r.get("scen") != "memory" or r["mode"] == "real":
            continue
        if r["mode"] in seen:
            continue
        seen.add(r["mode"])
        print("- memory (%s, %s entries): heap %.1f B per identity, "
              "%.2f MiB per 100,000 (RSS %.2f MiB per 100,000)%s" % (
                  r["mode"], r["entries"], num(r, "heap_per_entry"),
                  num(r, "heap_mib_per_100k"), num(r, "rss_mib_per_100k"),
                  " — without the ldns TLSA RRset"
                  if r["mode"] == "synthetic-norr" else ""))
    last = max((r["run"] for r in rows if r.get("mode") == "real"),
               default=None)
    real = sorted((int(r["count"]), num(r, "heap_bytes")) for r in rows
                  if r.get("scen") == "memory" and r.get("mode") == "real"
                  and r["run"] == last)
    if len(real) >= 2 and real[-1][0] > real[0][0]:
        slope = (real[-1][1] - real[0][1]) / (real[-1][0] - real[0][0])
        print("- memory (real lookups, slope between %d and %d identities): "
              "heap %.1f B per identity, %.2f MiB per 100,000" % (
                  real[0][0], real[-1][0], slope, slope * 1e5 / 1048576))
    storm_n, storm_ratio, flood_effect = storm(runs)
    appendix = os.environ.get("REPORT_APPENDIX")
    if appendix and os.path.exists(appendix) and os.path.getsize(appendix):
        print()
        print("## Where a warm DANE handshake's instructions go (callgrind)")
        print()
        print("```")
        with open(appendix) as f:
            print(f.read().rstrip())
        print("```")
    if fails:
        print()
        print("WARNING: %d handshakes failed: %s" % (fails, ", ".join(
            "%s %s TLS %s (run %s): %s" % (r["scen"], r.get("mode"),
                                           r["tls"], r["run"], r["fail"])
            for r in runs if num(r, "fail") > 0)))

    sf = [int(r["tlsa_queries"]) for r in rows
          if r.get("scen") == "singleflight-queries"]
    wr = med(pooled)
    print()
    print("summary: warm_ratio=%.3f cold_extra_rtt=%.3f "
          "singleflight_queries=%s storm_n=%s storm_ratio=%.3f "
          "flood_effect=%.3f" % (
              wr, max(extra, default=float("nan")),
              max(sf) if sf else "?", storm_n, storm_ratio, flood_effect))


if __name__ == "__main__":
    main()
