/*
 * dance_test.h - shared declarations for the dance_unit CUnit runner.
 *
 * To add a suite "foo":
 *   1. write tests/unit/test_foo.c defining dance_test_suite_foo(), which
 *      registers its tests (usually with dance_test_add_suite);
 *   2. add X(foo) to DANCE_TEST_SUITES below (this declares the function and
 *      puts it in the runner's table);
 *   3. add foo to DANCE_UNIT_SUITES and unit/test_foo.c to the dance_unit
 *      sources in tests/CMakeLists.txt.
 */
#ifndef DANCE_TEST_H
#define DANCE_TEST_H

#include <CUnit/CUnit.h>

/* The suites, in run order: one X(name) per suite. */
#define DANCE_TEST_SUITES(X)                                                   \
    X(cache)                                                                   \
    X(validate)                                                                \
    X(net)                                                                     \
    X(anchor)                                                                  \
    X(name) X(config) X(async) X(fw) X(replay) X(log) X(ident) X(ext) X(stats)

/*
 * dance_test_suite_<name> - add suite <name> to the CUnit registry.
 * Returns 0 on success, non-zero on failure (CUnit error or out of memory).
 */
#define DANCE_TEST_DECLARE_SUITE(name) int dance_test_suite_##name(void);
DANCE_TEST_SUITES(DANCE_TEST_DECLARE_SUITE)
#undef DANCE_TEST_DECLARE_SUITE

/*
 * dance_test_add_suite - register suite name with the tests in cases, a
 * table ended by CU_TEST_INFO_NULL; init and cleanup may be NULL.
 * The strings and table must outlive the run (use static storage).
 * Returns 0 on success, -1 on failure (reason printed to stderr).
 */
int dance_test_add_suite(const char *name, CU_InitializeFunc init,
                         CU_CleanupFunc cleanup, const CU_TestInfo *cases);

#endif /* DANCE_TEST_H */
