/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runner.c - dance_unit [SUITE...]: run the named CUnit suites, or all.
 *
 * Exit status: 0 when every test passed, 1 when any test, assertion, suite
 * initialisation or cleanup failed, 2 on usage errors (unknown suite) or
 * CUnit setup failures.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "dance_test.h"

typedef struct {
    const char *name;
    int (*add)(void);
} dance_test_suite;

#define DANCE_TEST_TABLE_ROW(name) {#name, dance_test_suite_##name},
static const dance_test_suite suites[] = {
    DANCE_TEST_SUITES(DANCE_TEST_TABLE_ROW)};
#undef DANCE_TEST_TABLE_ROW

#define NSUITES (sizeof(suites) / sizeof(suites[0]))

/* dance_test_add_suite - see dance_test.h. */
int dance_test_add_suite(const char *name, CU_InitializeFunc init,
                         CU_CleanupFunc cleanup, const CU_TestInfo *cases)
{
    CU_pSuite suite = CU_add_suite(name, init, cleanup);
    size_t i;

    if (suite == NULL)
        goto err;
    for (i = 0; cases[i].pName != NULL; i++) {
        if (CU_add_test(suite, cases[i].pName, cases[i].pTestFunc) == NULL)
            goto err;
    }
    return 0;

err:
    fprintf(stderr, "dance_unit: cannot add suite %s: %s\n", name,
            CU_get_error_msg());
    return -1;
}

/* find_suite - index of the suite called name, or -1. */
static int find_suite(const char *name)
{
    size_t i;

    for (i = 0; i < NSUITES; i++) {
        if (strcmp(suites[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

/* usage - print the command line and the known suite names to stderr. */
static void usage(const char *prog)
{
    size_t i;

    fprintf(stderr, "usage: %s [SUITE...]\nsuites:", prog);
    for (i = 0; i < NSUITES; i++)
        fprintf(stderr, " %s", suites[i].name);
    fprintf(stderr, "\n");
}

/* main - register the selected suites, run them, map the outcome to exit. */
int main(int argc, char **argv)
{
    int selected[NSUITES];
    const CU_RunSummary *sum;
    unsigned int failed;
    size_t i;
    int status = 2, j;

    memset(selected, 0, sizeof(selected));
    for (j = 1; j < argc; j++) {
        int idx = find_suite(argv[j]);

        if (idx < 0) {
            fprintf(stderr, "%s: unknown suite \"%s\"\n", argv[0], argv[j]);
            usage(argv[0]);
            return 2;
        }
        selected[idx] = 1; /* repeated names run once */
    }
    if (argc < 2) {
        for (i = 0; i < NSUITES; i++)
            selected[i] = 1;
    }

    if (CU_initialize_registry() != CUE_SUCCESS) {
        fprintf(stderr, "%s: CUnit: %s\n", argv[0], CU_get_error_msg());
        return 2;
    }
    for (i = 0; i < NSUITES; i++) {
        if (selected[i] && suites[i].add() != 0)
            goto out;
    }

    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS) {
        fprintf(stderr, "%s: CUnit: %s\n", argv[0], CU_get_error_msg());
        goto out;
    }
    sum = CU_get_run_summary();
    failed = sum->nSuitesFailed + sum->nTestsFailed + sum->nAssertsFailed +
             sum->nFailureRecords + CU_get_number_of_failures();
    if (sum->nTestsRun == 0) {
        fprintf(stderr, "%s: no tests ran\n", argv[0]);
        status = 1;
    } else {
        status = failed != 0 ? 1 : 0;
    }
    printf("\n");

out:
    CU_cleanup_registry();
    return status;
}
