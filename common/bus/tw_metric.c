/* tw_metric - known heartbeat value names and fixed-size sets of them. */
#include "tw_metric.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

// clang-format off
static const tw_metric_info_t s_known[] = {
    {"chat_items_total", "counter", 1,
     "Chat items of the stream the chat worker handed to the writer "
     "(deletions not counted)."},
    {"chat_last_poll_unix_seconds", "gauge", 1,
     "Unix time of the chat worker's last successful chat poll."},
    {"writer_lag_seconds", "gauge", 1000,
     "Seconds between receiving the chat item the writer stored last and "
     "storing it."},
    {"quota_used_units", "gauge", 1,
     "YouTube Data API units spent today (shared quota governor)."},
    {"quota_remaining_units", "gauge", 1,
     "YouTube Data API units left today (shared quota governor)."},
    {"notifications_sent_total", "counter", 1,
     "Telegram messages accepted by Telegram."},
    {"notifications_failed_total", "counter", 1,
     "Telegram messages dropped: rejected, or for a disabled chat."},
    {"uploads_total", "counter", 1, "Day archives uploaded to Drive."},
    {"uploads_failed_total", "counter", 1,
     "Day archive uploads that failed (retried on a later pass)."},
};
// clang-format on

bool tw_metric_valid_name(const char *name)
{
    if (!name || !*name)
        return false;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_' || c == ':' || (n > 0 && c >= '0' && c <= '9');
        if (!ok || n + 1 >= TW_METRIC_NAME_MAX)
            return false;
    }
    return true;
}

const tw_metric_info_t *tw_metric_info(const char *name)
{
    if (!tw_metric_valid_name(name))
        return NULL;
    for (size_t i = 0; i < sizeof s_known / sizeof s_known[0]; i++) {
        if (strcmp(s_known[i].name, name) == 0)
            return &s_known[i];
    }
    return NULL;
}

const tw_metric_info_t *tw_metric_known(size_t *n)
{
    assert(n);
    *n = sizeof s_known / sizeof s_known[0];
    return s_known;
}

tw_rc_t tw_metric_set_put(tw_metric_set_t *set, const char *name, int64_t value)
{
    assert(set);
    assert(name);
    if (!tw_metric_info(name))
        return TW_ERR_INVALID;
    for (uint32_t i = 0; i < set->n; i++) {
        if (strcmp(set->v[i].name, name) == 0) {
            set->v[i].value = value;
            return TW_OK;
        }
    }
    if (set->n >= TW_METRIC_MAX)
        return TW_ERR_TOOBIG;
    tw_metric_t *m = &set->v[set->n++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->value = value;
    return TW_OK;
}

bool tw_metric_set_get(const tw_metric_set_t *set, const char *name,
                       int64_t *value)
{
    assert(set);
    assert(name);
    for (uint32_t i = 0; i < set->n; i++) {
        if (strcmp(set->v[i].name, name) == 0) {
            if (value)
                *value = set->v[i].value;
            return true;
        }
    }
    return false;
}

void tw_metric_set_to_list(const tw_metric_set_t *set, tw_gauge_t *v,
                           tw_gauge_list_t *list)
{
    assert(set);
    assert(v);
    assert(list);
    for (uint32_t i = 0; i < set->n; i++)
        v[i] = (tw_gauge_t){.name = (char *)set->v[i].name,
                            .value = set->v[i].value};
    list->v = set->n ? v : NULL;
    list->n = set->n;
}

uint32_t tw_metric_set_from_list(tw_metric_set_t *set,
                                 const tw_gauge_list_t *list)
{
    assert(set);
    assert(list);
    set->n = 0;
    uint32_t skipped = 0;
    for (size_t i = 0; i < list->n; i++) {
        const tw_gauge_t *g = &list->v[i];
        if (!g->name || tw_metric_set_get(set, g->name, NULL) ||
            tw_metric_set_put(set, g->name, g->value) != TW_OK)
            skipped++;
    }
    return skipped;
}
