/* Fuzz target: notifier_rules_load on arbitrary values.tsv bytes, then a
 * save/load round trip and a sample and an event on the loaded state. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../workers/notifier/notifier_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *chats[] = {"1"};
    static char *metrics[] = {"likes", "viewers"};
    static char *events[] = {"live", "ended"};
    static tw_cfg_rule_t rules[2];
    static tw_cfg_t cfg;
    if (!cfg.notify.rules) {
        cfg.telegram.chat_ids = (tw_cfg_strv_t){chats, 1};
        cfg.notify.events = (tw_cfg_strv_t){events, 2};
        rules[0].metrics = (tw_cfg_strv_t){metrics, 2};
        rules[0].min_delta = 1;
        rules[0].template_text = "{title} {Metric} {prev} {curr} {delta}";
        rules[1] = rules[0];
        rules[1].milestone = 10;
        cfg.notify.rules = rules;
        cfg.notify.nrules = 2;
    }
    notifier_rules_t *r = notifier_rules_new(&cfg);
    assert(r);
    size_t skipped = 0;
    if (notifier_rules_load(r, (const char *)data, size, &skipped, NULL) !=
        TW_OK) {
        notifier_rules_destroy(&r);
        return 0;
    }
    size_t len = 0;
    char *text = notifier_rules_save(r, &len);
    assert(text);
    notifier_rules_t *r2 = notifier_rules_new(&cfg);
    size_t skipped2 = 0;
    assert(notifier_rules_load(r2, text, len, &skipped2, NULL) == TW_OK);
    assert(skipped2 == 0);
    assert(notifier_rules_videos(r2) == notifier_rules_videos(r));
    size_t len2 = 0;
    char *text2 = notifier_rules_save(r2, &len2);
    assert(len2 == len && memcmp(text, text2, len) == 0);
    free(text);
    free(text2);

    notifier_notes_t out = {0};
    tw_msg_stats_sample_t s;
    memset(&s, 0, sizeof s);
    s.video_id = "vid";
    s.channel_id = "c";
    s.title = "t";
    s.sampled_at_us = 5;
    s.likes = (tw_ou64_t){true, 7};
    s.concurrent_viewers = (tw_ou64_t){true, 9};
    notifier_rules_sample(r2, &s, &out);
    tw_msg_stream_event_t e;
    memset(&e, 0, sizeof e);
    e.video_id = "vid";
    e.channel_id = "c";
    e.title = "t";
    e.state = TW_STREAM_STATE_ENDED;
    notifier_rules_stream(r2, &e, &out);
    notifier_rules_prune(r2, 1000);
    notifier_notes_clear(&out);
    notifier_rules_destroy(&r2);
    notifier_rules_destroy(&r);
    return 0;
}
