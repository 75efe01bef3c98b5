#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""cgdiff.py - where a warm DANE handshake spends its instructions,
against the CA baseline, from the callgrind files bench/run keeps.

    cgdiff.py WORKDIR TLS N1 N2 [CONF]

Reads WORKDIR/cg.{base,CONF}.TLS.{N1,N2}.out (CONF defaults to
validate-0), takes every function's inclusive instruction count per
handshake as (Ir(N2) - Ir(N1)) / (N2 - N1), and prints the functions
whose cost changed most, then the provider's own hooks.
"""
import re
import subprocess
import sys

HOOKS = ("ctx_new", "conn_get", "conn_free", "ext_add", "ext_parse",
         "ext_free", "hello_cb", "take_name", "first_dns_san",
         "verify_cb", "server_verify", "client_verify",
         "dane_check.constprop.0", "dane_check", "enable_dane", "run_verify",
         "start_lookup", "dance_async_start", "dance_res_lookup_cached",
         "dance_cache_get1", "dance_res_job_join", "dance_res_job_free",
         "dane_verify", "dane_match", "X509_verify_cert", "X509_verify",
         "SSL_dane_enable", "SSL_dane_tlsa_add")


def load(path):
    """load - inclusive Ir per function name of one callgrind file."""
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                          "--threshold=100", path],
                         capture_output=True, text=True, check=True).stdout
    costs = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([\d. %]+\)\s+\S+:(\S+)", line)
        if m and not m.group(2).startswith("0x"):
            ir = int(m.group(1).replace(",", ""))
            costs[m.group(2)] = max(costs.get(m.group(2), 0), ir)
    return costs


def per_handshake(work, conf, tls, n1, n2):
    """per_handshake - inclusive Ir per handshake of every function."""
    a = load("%s/cg.%s.%s.%d.out" % (work, conf, tls, n1))
    b = load("%s/cg.%s.%s.%d.out" % (work, conf, tls, n2))
    return {k: (b.get(k, 0) - a.get(k, 0)) / (n2 - n1) for k in set(a) | set(b)}


def main():
    """main - print the comparison."""
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    work, tls, n1, n2 = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4])
    conf = sys.argv[5] if len(sys.argv) > 5 else "validate-0"
    base = per_handshake(work, "base", tls, n1, n2)
    dane = per_handshake(work, conf, tls, n1, n2)
    total_b, total_d = base.get("start_thread", 0), dane.get("start_thread", 0)
    print("TLS %s, instructions per handshake (client + server threads): "
          "baseline %.0f, DANE %.0f (x%.4f)" % (tls, total_b, total_d,
                                                total_d / total_b))
    rows = sorted((dane.get(k, 0) - base.get(k, 0), k)
                  for k in set(base) | set(dane))
    print("\nlargest decreases (DANE - baseline, inclusive):")
    for d, k in rows[:6]:
        print("  %+10.0f  %s" % (d, k))
    print("\nlargest increases:")
    for d, k in reversed(rows[-12:]):
        print("  %+10.0f  %s" % (d, k))
    print("\nprovider hooks and DANE engine (inclusive, per handshake):")
    for k in HOOKS:
        if k in dane or k in base:
            print("  %10.0f  (baseline %10.0f)  %s" % (dane.get(k, 0),
                                                      base.get(k, 0), k))


if __name__ == "__main__":
    main()
