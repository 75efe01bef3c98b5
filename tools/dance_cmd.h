/*
 * dance_cmd.h - subcommands of the `dance` tool.
 *
 * Each takes the arguments after its own name (argv[0] is the subcommand)
 * and returns the process exit status.
 */
#ifndef DANCE_CMD_H
#define DANCE_CMD_H

/* Exit status for usage and configuration errors, shared by subcommands. */
#define DANCE_EXIT_USAGE 1

int dance_cmd_lookup(int argc, char **argv);
int dance_cmd_tlsa(int argc, char **argv);
int dance_cmd_keystore(int argc, char **argv);
int dance_cmd_manifest(int argc, char **argv);
int dance_cmd_rollover(int argc, char **argv);
/* issue 12: fleet enrolment and rotation */
int dance_cmd_publish(int argc, char **argv);
int dance_cmd_check(int argc, char **argv);
int dance_cmd_rotate(int argc, char **argv);
/* issue 11: what the provider would say of an openssl.cnf */
int dance_cmd_check_config(int argc, char **argv);
/* issue 11: the provider's stats files */
int dance_cmd_stats(int argc, char **argv);

#endif /* DANCE_CMD_H */
