#include "consumers/offset_tracker.h"
#include "tests/support/test.h"

#include <stdint.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The one committable offset of the tracker, or -1 when none is listed. */
static int64_t committable_one(const bl_offset_tracker *t)
{
    bl_kafka_offset out[2];
    size_t n = bl_offset_tracker_committable(t, out, 2);
    return n == 1 ? out[0].next_offset : -1;
}

#define N_OFFSETS 100000
#define WINDOW 512

/* Runs N_OFFSETS offsets (spaced by gap_every: every gap_every-th offset is
 * skipped, 0 for none) through a tracker with random completions, checking
 * after each step that the commit is exactly the first unfinished offset. */
static void run_random_completions(int gap_every)
{
    bl_err err = {0};
    bl_offset_tracker *t = bl_offset_tracker_new(WINDOW, 0, &err);
    REQUIRE(t != NULL);
    static int64_t offsets[N_OFFSETS];
    static unsigned char finished[N_OFFSETS];
    static int64_t in_flight[WINDOW];
    memset(finished, 0, sizeof finished);
    int64_t o = 0;
    for (size_t i = 0; i < N_OFFSETS; i++, o++) {
        if (gap_every && o % gap_every == gap_every - 1)
            o += 3;
        offsets[i] = o;
    }
    size_t next_take = 0, lowest_unfinished = 0, n_in_flight = 0;
    int64_t last_committed = offsets[0];
    int bad = 0, full_seen = 0;
    while (lowest_unfinished < N_OFFSETS && !bad) {
        /* Take a random batch while there is room, then finish random ones. */
        size_t take = next_random() % 64;
        for (size_t k = 0; k < take && next_take < N_OFFSETS; k++) {
            int r = bl_offset_tracker_track(t, "events.pmo.risk", 3, offsets[next_take], &err);
            if (r == BL_OFFSET_WINDOW_FULL) {
                full_seen = 1;
                break;
            }
            if (r != BL_OFFSET_TRACKED) {
                bad = 1;
                break;
            }
            in_flight[n_in_flight++] = (int64_t)next_take++;
        }
        size_t finish = n_in_flight ? next_random() % (n_in_flight + 1) : 0;
        for (size_t k = 0; k < finish; k++) {
            size_t pick = next_random() % n_in_flight;
            size_t idx = (size_t)in_flight[pick];
            in_flight[pick] = in_flight[--n_in_flight];
            if (bl_offset_tracker_done(t, "events.pmo.risk", 3, offsets[idx], &err) != 0)
                bad = 1;
            finished[idx] = 1;
        }
        while (lowest_unfinished < next_take && finished[lowest_unfinished])
            lowest_unfinished++;
        int64_t want = lowest_unfinished < next_take ? offsets[lowest_unfinished]
                                                     : offsets[next_take - 1] + 1;
        int64_t got = committable_one(t);
        if (want > last_committed) {
            if (got != want)
                bad = 1;
            bl_kafka_offset c = {"events.pmo.risk", 3, got};
            bl_offset_tracker_committed(t, &c, 1);
            last_committed = got;
        } else if (got != -1) {
            bad = 1; /* nothing advanced, nothing to commit */
        }
    }
    CHECK(!bad);
    CHECK(full_seen);
    CHECK_EQ_INT(last_committed, offsets[N_OFFSETS - 1] + 1);
    CHECK_EQ_INT(bl_offset_tracker_held(t, "events.pmo.risk", 3), 0);
    bl_offset_tracker_free(t);
}

static void random_completion_order_commits_only_finished_prefix_and_ends_at_last(void)
{
    run_random_completions(0);
}

static void random_completions_over_offset_gaps_end_past_last_offset(void)
{
    run_random_completions(7);
}

static void watermark_passes_offsets_never_delivered(void)
{
    bl_err err = {0};
    bl_offset_tracker *t = bl_offset_tracker_new(16, 0, &err);
    REQUIRE(t != NULL);
    const int64_t offs[] = {10, 15, 16, 30};
    for (size_t i = 0; i < 4; i++)
        CHECK_EQ_INT(bl_offset_tracker_track(t, "compacted", 0, offs[i], &err), BL_OFFSET_TRACKED);
    CHECK_EQ_INT(committable_one(t), -1); /* 10 is where the group stands */
    CHECK_EQ_INT(bl_offset_tracker_done(t, "compacted", 0, 15, &err), 0);
    CHECK_EQ_INT(committable_one(t), -1); /* 10 still unfinished */
    CHECK_EQ_INT(bl_offset_tracker_done(t, "compacted", 0, 10, &err), 0);
    CHECK_EQ_INT(committable_one(t), 16); /* 11..14 never existed */
    CHECK_EQ_INT(bl_offset_tracker_done(t, "compacted", 0, 30, &err), 0);
    CHECK_EQ_INT(committable_one(t), 16);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "compacted", 0, 16, &err), 0);
    CHECK_EQ_INT(committable_one(t), 31);
    bl_offset_tracker_free(t);
}

static void committed_partitions_are_not_listed_again_until_they_advance(void)
{
    bl_err err = {0};
    bl_offset_tracker *t = bl_offset_tracker_new(8, 0, &err);
    REQUIRE(t != NULL);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "a", 0, 0, &err), BL_OFFSET_TRACKED);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "a", 0, 1, &err), BL_OFFSET_TRACKED);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "a", 0, 0, &err), 0);
    bl_kafka_offset out[4];
    REQUIRE(bl_offset_tracker_committable(t, out, 4) == 1);
    CHECK_EQ_STR(out[0].topic, "a");
    CHECK_EQ_INT(out[0].next_offset, 1);
    bl_offset_tracker_committed(t, out, 1);
    CHECK_EQ_INT(bl_offset_tracker_committable(t, out, 4), 0);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "a", 0, 1, &err), 0);
    CHECK_EQ_INT(committable_one(t), 2);
    bl_offset_tracker_free(t);
}

static void many_partitions_are_kept_apart(void)
{
    bl_err err = {0};
    bl_offset_tracker *t = bl_offset_tracker_new(1000, 0, &err);
    REQUIRE(t != NULL);
    /* 300 partitions over two topics, each finishing i offsets of 200. */
    for (int32_t p = 0; p < 150; p++) {
        for (int64_t o = 0; o < 200; o++) {
            CHECK(bl_offset_tracker_track(t, "x", p, o, &err) == BL_OFFSET_TRACKED);
            CHECK(bl_offset_tracker_track(t, "y", p, o + 1000, &err) == BL_OFFSET_TRACKED);
        }
        for (int64_t o = 0; o < p + 1; o++) {
            CHECK(bl_offset_tracker_done(t, "x", p, o, &err) == 0);
            CHECK(bl_offset_tracker_done(t, "y", p, o + 1000, &err) == 0);
        }
    }
    static bl_kafka_offset out[400];
    size_t n = bl_offset_tracker_committable(t, out, 400);
    CHECK_EQ_INT(n, 300);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t base = strcmp(out[i].topic, "y") == 0 ? 1000 : 0;
        if (out[i].next_offset != base + out[i].partition + 1)
            bad = 1;
    }
    CHECK(!bad);
    CHECK_EQ_INT(bl_offset_tracker_committable(t, out, 10), 10); /* cut at cap */
    CHECK_EQ_INT(bl_offset_tracker_held(t, "x", 149), 50);
    bl_offset_tracker_free(t);
}

static void revoke_returns_final_offset_and_forgets_partition(void)
{
    bl_err err = {0};
    bl_offset_tracker *t = bl_offset_tracker_new(8, 0, &err);
    REQUIRE(t != NULL);
    for (int64_t o = 100; o < 105; o++) {
        CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, o, &err), BL_OFFSET_TRACKED);
        CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 1, o, &err), BL_OFFSET_TRACKED);
    }
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 100, &err), 0);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 101, &err), 0);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 103, &err), 0);
    int64_t final_next = -1;
    CHECK_EQ_INT(bl_offset_tracker_forget(t, "t", 0, &final_next), 1);
    CHECK_EQ_INT(final_next, 102);
    CHECK_EQ_INT(bl_offset_tracker_held(t, "t", 0), 0);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 102, &err), -1);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    bl_kafka_offset out[4];
    CHECK_EQ_INT(bl_offset_tracker_committable(t, out, 4), 0); /* partition 1 never advanced */
    /* Nothing finished on partition 1, unknown partition 7: nothing to commit. */
    final_next = -1;
    CHECK_EQ_INT(bl_offset_tracker_forget(t, "t", 1, &final_next), 0);
    CHECK_EQ_INT(final_next, -1);
    CHECK_EQ_INT(bl_offset_tracker_forget(t, "t", 7, &final_next), 0);
    /* Reassigned later, it starts over from wherever the group resumes. */
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 102, &err), BL_OFFSET_TRACKED);
    bl_offset_tracker_free(t);
}

static void full_window_refuses_until_the_oldest_finishes(void)
{
    bl_err err = {0};
    bl_offset_tracker *t = bl_offset_tracker_new(4, 0, &err);
    REQUIRE(t != NULL);
    for (int64_t o = 0; o < 4; o++)
        CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, o, &err), BL_OFFSET_TRACKED);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 4, &err), BL_OFFSET_WINDOW_FULL);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 1, 4, &err), BL_OFFSET_TRACKED); /* per partition */
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 2, &err), 0);
    CHECK_EQ_INT(bl_offset_tracker_held(t, "t", 0), 4); /* 2 waits behind 0 */
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 4, &err), BL_OFFSET_WINDOW_FULL);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 1, &err), 0);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 0, &err), 0);
    CHECK_EQ_INT(bl_offset_tracker_held(t, "t", 0), 1);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 4, &err), BL_OFFSET_TRACKED);
    CHECK_EQ_INT(committable_one(t), 3);
    bl_offset_tracker_free(t);
}

static void a_stuck_offset_holds_the_partition_only_at_max_held(void)
{
    bl_err err = {0};
    bl_offset_tracker *t = bl_offset_tracker_new(4, 10, &err);
    REQUIRE(t != NULL);
    /* offset 0 never finishes; the rest finish as they come */
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 0, &err), BL_OFFSET_TRACKED);
    for (int64_t o = 1; o < 10; o++) {
        CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, o, &err), BL_OFFSET_TRACKED);
        CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, o, &err), 0);
    }
    CHECK_EQ_INT(bl_offset_tracker_held(t, "t", 0), 10);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 10, &err), BL_OFFSET_WINDOW_FULL);
    CHECK_EQ_INT(committable_one(t), -1);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 0, &err), 0);
    CHECK_EQ_INT(committable_one(t), 10);
    /* unfinished ones still stop at max_in_flight */
    for (int64_t o = 10; o < 14; o++)
        CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, o, &err), BL_OFFSET_TRACKED);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 14, &err), BL_OFFSET_WINDOW_FULL);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 12, &err), 0);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 14, &err), BL_OFFSET_TRACKED);
    bl_offset_tracker_free(t);
    CHECK(bl_offset_tracker_new(8, 4, &err) == NULL); /* held below in flight */
    CHECK_EQ_INT(err.code, BL_EINVAL);
}

static void misuse_gets_clear_errors(void)
{
    bl_err err = {0};
    CHECK(bl_offset_tracker_new(0, 0, &err) == NULL);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    bl_offset_tracker *t = bl_offset_tracker_new(4, 0, &err);
    REQUIRE(t != NULL);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 5, &err), BL_OFFSET_TRACKED);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 5, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, -1, &err), -1);
    CHECK_EQ_INT(err.code, BL_EINVAL);
    CHECK_EQ_INT(bl_offset_tracker_track(t, NULL, 0, 1, &err), -1);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 6, &err), -1);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    CHECK_EQ_INT(bl_offset_tracker_track(t, "t", 0, 6, &err), BL_OFFSET_TRACKED);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 6, &err), 0);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "t", 0, 6, &err), -1);
    CHECK_EQ_INT(err.code, BL_ECONFLICT);
    CHECK_EQ_INT(bl_offset_tracker_done(t, "other", 0, 6, &err), -1);
    CHECK_EQ_INT(err.code, BL_ENOTFOUND);
    bl_offset_tracker_free(t);
    bl_offset_tracker_free(NULL);
}

int main(void)
{
    BL_RUN(random_completion_order_commits_only_finished_prefix_and_ends_at_last);
    BL_RUN(random_completions_over_offset_gaps_end_past_last_offset);
    BL_RUN(watermark_passes_offsets_never_delivered);
    BL_RUN(committed_partitions_are_not_listed_again_until_they_advance);
    BL_RUN(many_partitions_are_kept_apart);
    BL_RUN(revoke_returns_final_offset_and_forgets_partition);
    BL_RUN(full_window_refuses_until_the_oldest_finishes);
    BL_RUN(a_stuck_offset_holds_the_partition_only_at_max_held);
    BL_RUN(misuse_gets_clear_errors);
    return bl_test_summary();
}
