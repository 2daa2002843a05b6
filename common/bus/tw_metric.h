/* tw_metric - the named values workers report with their heartbeats
 * (HEARTBEAT's gauges): the table of known names, their validation, and a
 * fixed-size set of them. tubewatchd renders each as tubewatch_<name>. */
#ifndef TW_METRIC_H
#define TW_METRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_proto.h"
#include "tw_rc.h"

/* Most names one worker reports; longest name, with its NUL. */
#define TW_METRIC_MAX      16
#define TW_METRIC_NAME_MAX 48

/* One known name. A value travels as an integer in units of 1/scale of the
 * rendered unit: writer_lag_seconds travels in milliseconds (scale 1000). */
typedef struct {
    const char *name; /* "chat_items_total" (without tubewatch_) */
    const char *type; /* "counter" or "gauge" */
    uint32_t scale;   /* rendered value = wire value / scale */
    const char *help; /* one line for # HELP */
} tw_metric_info_t;

/* One reported value. */
typedef struct {
    char name[TW_METRIC_NAME_MAX]; /* a known name */
    int64_t value;                 /* wire value (see scale) */
} tw_metric_t;

/* The values of one worker (a small value type, no allocation). */
typedef struct {
    tw_metric_t v[TW_METRIC_MAX]; /* in the order first set */
    uint32_t n;                   /* entries used */
} tw_metric_set_t;

/* True when name is a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)
 * shorter than TW_METRIC_NAME_MAX bytes. */
bool tw_metric_valid_name(const char *name);
/* The known name's entry (static), NULL when name is not known. */
const tw_metric_info_t *tw_metric_info(const char *name);
/* The table of known names (static); *n gets its length. */
const tw_metric_info_t *tw_metric_known(size_t *n);

/* Sets name to value in set, adding it when new. TW_ERR_INVALID for a name
 * that is not valid or not known, TW_ERR_TOOBIG when set is full. */
tw_rc_t tw_metric_set_put(tw_metric_set_t *set, const char *name,
                          int64_t value);
/* The value of name in set into *value; false when absent. */
bool tw_metric_set_get(const tw_metric_set_t *set, const char *name,
                       int64_t *value);
/* Fills list with set's entries for a HEARTBEAT; list points into set and
 * into v (caller's array of TW_METRIC_MAX), so nothing is freed. */
void tw_metric_set_to_list(const tw_metric_set_t *set, tw_gauge_t *v,
                           tw_gauge_list_t *list);
/* Replaces set with the entries of a received list, skipping invalid or
 * unknown names, repeats and those past TW_METRIC_MAX; returns how many
 * were skipped. */
uint32_t tw_metric_set_from_list(tw_metric_set_t *set,
                                 const tw_gauge_list_t *list);

#endif
