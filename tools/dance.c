/*
 * dance.c - the `dance` command-line tool: dispatch to subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "dance_cmd.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {"lookup", dance_cmd_lookup, "DNSSEC-validated lookup of a name"},
    {"tlsa", dance_cmd_tlsa, "TLSA record for a certificate or public key"},
    {"keystore", dance_cmd_keystore, "IPSECKEY records for firmware keys"},
    {"manifest", dance_cmd_manifest, "create, sign and verify SUIT manifests"},
    {"rollover", dance_cmd_rollover, "firmware key rollover manifests"},
    {"publish", dance_cmd_publish, "add/replace/remove TLSA via RFC 2136"},
    {"check", dance_cmd_check, "would a server authenticate this key now?"},
    {"rotate", dance_cmd_rotate, "change a device key without lock-out"},
    {"check-config", dance_cmd_check_config, "would the provider accept FILE?"},
    {"stats", dance_cmd_stats, "the provider's stats files, summed"},
};

/* usage - list the subcommands on stream. */
static void usage(FILE *stream)
{
    fprintf(stream, "usage: dance COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        fprintf(stream, "  %-10s %s\n", subcommands[i].name,
                subcommands[i].summary);
    fprintf(stream, "\n'dance COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return DANCE_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "dance: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return DANCE_EXIT_USAGE;
}
