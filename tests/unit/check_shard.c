/* Unit tests of tw_shard (parsing "K/N", FNV-1a 64, every id in exactly
 * one shard, spread) and tw_fstamp (noticing a changed file). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tw_fstamp.h"
#include "tw_shard.h"

START_TEST(test_parse)
{
    tw_shard_t s = {0, 0};
    ck_assert_int_eq(tw_shard_parse("", &s, NULL), TW_OK);
    ck_assert_uint_eq(s.k, 1);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_int_eq(tw_shard_parse("3/3", &s, NULL), TW_OK);
    ck_assert_uint_eq(s.k, 3);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_int_eq(tw_shard_parse("1024/1024", &s, NULL), TW_OK);
    const char *bad[] = {"0/3",
                         "4/3",
                         "3",
                         "/3",
                         "1/",
                         "1/0",
                         "1/3 ",
                         " 1/3",
                         "1//3",
                         "a/3",
                         "1/3/",
                         "1/1025",
                         "99999999999999999999/3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tw_err_t err = {{0}, 0, 0};
        ck_assert_msg(tw_shard_parse(bad[i], &s, &err) == TW_ERR_INVALID,
                      "%s accepted", bad[i]);
        ck_assert_msg(strstr(err.msg, "K/N") != NULL, "%s", err.msg);
    }
}
END_TEST

START_TEST(test_hash_is_fnv1a64)
{
    /* the published FNV-1a 64 test vectors: other hosts and tools agree */
    ck_assert_uint_eq(tw_shard_hash(""), UINT64_C(0xcbf29ce484222325));
    ck_assert_uint_eq(tw_shard_hash("a"), UINT64_C(0xaf63dc4c8601ec8c));
    ck_assert_uint_eq(tw_shard_hash("foobar"), UINT64_C(0x85944171f73967e8));
    ck_assert_uint_eq(tw_shard_of("foobar", 3),
                      1 + (uint32_t)(UINT64_C(0x85944171f73967e8) % 3));
    ck_assert_uint_eq(tw_shard_of("foobar", 0), 1);
    ck_assert_uint_eq(tw_shard_of("foobar", 1), 1);
}
END_TEST

START_TEST(test_three_shards_split_exactly)
{
    enum { N = 30000 };
    tw_shard_t sh[3] = {{1, 3}, {2, 3}, {3, 3}};
    unsigned count[3] = {0, 0, 0};
    char id[32];
    for (int i = 0; i < N; i++) {
        /* channel-id shaped: UC + 22 characters */
        snprintf(id, sizeof id, "UC%011dx%010d", i * 37, i);
        int owners = 0;
        for (int k = 0; k < 3; k++)
            if (tw_shard_owns(&sh[k], id)) {
                owners++;
                count[k]++;
            }
        ck_assert_int_eq(owners, 1);
    }
    /* roughly even: each within 5 % of a third */
    for (int k = 0; k < 3; k++)
        ck_assert_msg(count[k] > N / 3 * 95 / 100 &&
                          count[k] < N / 3 * 105 / 100,
                      "shard %d has %u of %d", k + 1, count[k], N);
    /* unsharded owns everything */
    tw_shard_t all = {1, 1};
    ck_assert(tw_shard_owns(&all, id));
}
END_TEST

START_TEST(test_fstamp)
{
    char dir[] = "/tmp/tw-fstamp-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/f", dir);
    tw_fstamp_t st = {0, 0, 0};
    /* missing, still missing: no change */
    ck_assert(!tw_fstamp_changed(&st, path));
    FILE *f = fopen(path, "w");
    fputs("a\n", f);
    fclose(f);
    ck_assert(tw_fstamp_changed(&st, path));
    ck_assert(!tw_fstamp_changed(&st, path));
    /* a write that changes the size */
    f = fopen(path, "a");
    fputs("bb\n", f);
    fclose(f);
    ck_assert(tw_fstamp_changed(&st, path));
    /* replaced by rename (a new inode) */
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%s/g", dir);
    f = fopen(tmp, "w");
    fputs("a\nbb\n", f);
    fclose(f);
    ck_assert_int_eq(rename(tmp, path), 0);
    ck_assert(tw_fstamp_changed(&st, path));
    unlink(path);
    ck_assert(tw_fstamp_changed(&st, path));
    ck_assert(!tw_fstamp_changed(&st, path));
    rmdir(dir);
}
END_TEST

Suite *shard_suite(void)
{
    Suite *s = suite_create("shard");
    TCase *tc = tcase_create("shard");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_hash_is_fnv1a64);
    tcase_add_test(tc, test_three_shards_split_exactly);
    tcase_add_test(tc, test_fstamp);
    suite_add_tcase(s, tc);
    return s;
}
