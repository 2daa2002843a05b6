/* scan_store - the scanner's files (see scan_store.h). */
#define _GNU_SOURCE
#include "tw_scan.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_buf.h"
#include "tw_file.h"
#include "tw_time.h"
#include "tw_tsv.h"

static const char *s_trim(const char *p, size_t *len)
{
    while (*len && (*p == ' ' || *p == '\t' || *p == '\r')) {
        p++;
        (*len)--;
    }
    while (*len &&
           (p[*len - 1] == ' ' || p[*len - 1] == '\t' || p[*len - 1] == '\r'))
        (*len)--;
    return p;
}

/* Open-addressing set of the references parsed so far: slot = index + 1
 * into the output, 0 empty; kept at most half full. */
typedef struct {
    size_t *slot; /* slots */
    size_t size;  /* power of two */
} s_refset_t;

static uint64_t s_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Index of ref in v (through the set), or SIZE_MAX with *at its slot. */
static size_t s_refset_find(const s_refset_t *set, const tw_scan_chan_ref_t *v,
                            const char *ref, size_t *at)
{
    size_t mask = set->size - 1;
    for (size_t i = s_hash(ref) & mask;; i = (i + 1) & mask) {
        if (set->slot[i] == 0) {
            *at = i;
            return SIZE_MAX;
        }
        if (strcmp(v[set->slot[i] - 1].ref, ref) == 0)
            return set->slot[i] - 1;
    }
}

/* Makes room for n + 1 entries of v; false when out of memory. */
static bool s_refset_grow(s_refset_t *set, const tw_scan_chan_ref_t *v,
                          size_t n)
{
    if (set->size && (n + 1) * 2 <= set->size)
        return true;
    size_t size = set->size ? set->size * 2 : 64;
    s_refset_t ns = {calloc(size, sizeof *ns.slot), size};
    if (!ns.slot)
        return false;
    for (size_t k = 0; k < n; k++) {
        size_t at;
        (void)s_refset_find(&ns, v, v[k].ref, &at);
        ns.slot[at] = k + 1;
    }
    free(set->slot);
    *set = ns;
    return true;
}

tw_rc_t tw_scan_channels_parse(const char *buf, size_t len,
                               tw_scan_chan_ref_t **out, size_t *n,
                               size_t *nbad, tw_err_t *err)
{
    return tw_scan_channels_parse_max(buf, len, 0, out, n, nbad, NULL, err);
}

tw_rc_t tw_scan_channels_parse_max(const char *buf, size_t len, size_t max,
                                   tw_scan_chan_ref_t **out, size_t *n,
                                   size_t *nbad, size_t *nover, tw_err_t *err)
{
    assert(out && n);
    *out = NULL;
    *n = 0;
    size_t bad = 0, cap = 0, over = 0;
    size_t off = 0, ll;
    const char *line;
    int lineno = 0;
    s_refset_t set = {NULL, 0};
    while (tw_tsv_next_line(buf, len, &off, &line, &ll, NULL)) {
        lineno++;
        const char *hash = memchr(line, '#', ll);
        if (hash)
            ll = (size_t)(hash - line);
        line = s_trim(line, &ll);
        if (ll == 0)
            continue;
        char tmp[512];
        tw_scan_chan_ref_t r = {.line = lineno};
        tw_err_t e = {{0}, 0, 0};
        if (ll >= sizeof tmp) {
            tw_err_set(&e, "line too long");
        } else {
            memcpy(tmp, line, ll);
            tmp[ll] = '\0';
        }
        if (e.msg[0] || tw_id_parse_channel(tmp, r.ref, sizeof r.ref, &r.kind,
                                            &e) != TW_OK) {
            if (bad++ == 0)
                tw_err_set(err, "line %d: %s", lineno, e.msg);
            continue;
        }
        size_t at = 0;
        if (*n > 0 && s_refset_find(&set, *out, r.ref, &at) != SIZE_MAX)
            continue; /* a duplicate */
        if (max && *n == max) {
            over++; /* duplicates among these are counted too */
            continue;
        }
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            tw_scan_chan_ref_t *v = realloc(*out, ncap * sizeof *v);
            if (!v) {
                free(*out);
                free(set.slot);
                *out = NULL;
                *n = 0;
                tw_err_set(err, "out of memory");
                return TW_ERR_NOMEM;
            }
            *out = v;
            cap = ncap;
        }
        (*out)[*n] = r;
        if (!s_refset_grow(&set, *out, *n)) {
            free(*out);
            free(set.slot);
            *out = NULL;
            *n = 0;
            tw_err_set(err, "out of memory");
            return TW_ERR_NOMEM;
        }
        (void)s_refset_find(&set, *out, r.ref, &at);
        set.slot[at] = ++*n;
    }
    free(set.slot);
    if (nbad)
        *nbad = bad;
    if (nover)
        *nover = over;
    return TW_OK;
}

tw_rc_t tw_scan_channels_load(const char *path, tw_scan_chan_ref_t **out,
                              size_t *n, size_t *nbad, tw_err_t *err)
{
    return tw_scan_channels_load_max(path, 0, out, n, nbad, NULL, err);
}

tw_rc_t tw_scan_channels_load_max(const char *path, size_t max,
                                  tw_scan_chan_ref_t **out, size_t *n,
                                  size_t *nbad, size_t *nover, tw_err_t *err)
{
    char *data = NULL;
    size_t len = 0;
    tw_rc_t rc = tw_file_read_all(path, TW_SCAN_FILE_MAX, &data, &len, err);
    if (rc == TW_ERR_NOTFOUND) {
        *out = NULL;
        *n = 0;
        if (nbad)
            *nbad = 0;
        if (nover)
            *nover = 0;
        return TW_OK;
    }
    if (rc != TW_OK)
        return rc;
    rc = tw_scan_channels_parse_max(data, len, max, out, n, nbad, nover, err);
    free(data);
    return rc;
}

/* Copies field f into out (cap bytes) unescaped; false when it does not
 * fit or is malformed. */
static bool s_field(const tw_tsv_field_t *f, char *out, size_t cap)
{
    if (f->len >= cap)
        return false;
    memcpy(out, f->ptr, f->len);
    out[f->len] = '\0';
    size_t n;
    return tw_tsv_unescape_inplace(out, f->len, &n, NULL) == TW_OK;
}

tw_rc_t tw_scan_handles_load(const char *path, tw_scan_handle_t **out,
                             size_t *n, tw_err_t *err)
{
    *out = NULL;
    *n = 0;
    char *data = NULL;
    size_t len = 0;
    tw_rc_t rc = tw_file_read_all(path, TW_SCAN_FILE_MAX, &data, &len, err);
    if (rc == TW_ERR_NOTFOUND)
        return TW_OK;
    if (rc != TW_OK)
        return rc;
    size_t off = 0, ll, cap = 0;
    const char *line;
    while (tw_tsv_next_line(data, len, &off, &line, &ll, NULL)) {
        tw_tsv_field_t f[2];
        tw_scan_handle_t h;
        if (tw_tsv_split(line, ll, f, 2) != 2 ||
            !s_field(&f[0], h.handle, sizeof h.handle) ||
            !s_field(&f[1], h.channel_id, sizeof h.channel_id) ||
            !tw_id_is_handle(h.handle) || !tw_id_is_channel(h.channel_id))
            continue;
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            tw_scan_handle_t *v = realloc(*out, ncap * sizeof *v);
            if (!v)
                break;
            *out = v;
            cap = ncap;
        }
        (*out)[(*n)++] = h;
    }
    free(data);
    return TW_OK;
}

tw_rc_t tw_scan_handles_save(const char *path, const tw_scan_handle_t *v,
                             size_t n, tw_err_t *err)
{
    tw_buf_t *b = tw_buf_new();
    if (!b)
        return TW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        tw_buf_printf(b, "%s\t%s\n", v[i].handle, v[i].channel_id);
    tw_rc_t rc =
        tw_file_write_atomic(path, tw_buf_data(b), tw_buf_len(b), 0644, err);
    tw_buf_destroy(&b);
    return rc;
}

const char *tw_scan_handles_find(const tw_scan_handle_t *v, size_t n,
                                 const char *handle)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(v[i].handle, handle) == 0)
            return v[i].channel_id;
    return NULL;
}

/* Copies the channel id starting at p when one is there. */
static bool s_take_id(const char *p, const char *end, char *out, size_t cap)
{
    if (end - p < TW_ID_CHANNEL_LEN || cap <= TW_ID_CHANNEL_LEN)
        return false;
    char id[TW_ID_CHANNEL_LEN + 1];
    memcpy(id, p, TW_ID_CHANNEL_LEN);
    id[TW_ID_CHANNEL_LEN] = '\0';
    if (!tw_id_is_channel(id))
        return false;
    if (p + TW_ID_CHANNEL_LEN < end) {
        char c = p[TW_ID_CHANNEL_LEN];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '_' || c == '-')
            return false;
    }
    memcpy(out, id, TW_ID_CHANNEL_LEN + 1);
    return true;
}

tw_rc_t tw_scan_channel_page_id(const char *html, size_t len, char *out,
                                size_t cap)
{
    static const char *const keys[] = {
        "\"externalId\":\"", "<link rel=\"canonical\" href=\"",
        "<meta property=\"og:url\" content=\"", "\"channelId\":\""};
    const char *end = html + len;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t kl = strlen(keys[k]);
        for (const char *p = html; p && p + kl < end;) {
            p = memmem(p, (size_t)(end - p), keys[k], kl);
            if (!p)
                break;
            p += kl;
            if (k == 1 || k == 2) {
                const char *q = memchr(p, '"', (size_t)(end - p));
                if (!q)
                    break;
                const char *c = memmem(p, (size_t)(q - p), "/channel/", 9);
                if (c && s_take_id(c + 9, q, out, cap))
                    return TW_OK;
                continue;
            }
            if (s_take_id(p, end, out, cap))
                return TW_OK;
        }
    }
    return TW_ERR_NOTFOUND;
}

static const char *const s_states[] = {
    "unknown",      "scheduled", "live",    "ended",       "cancelled",
    "members_only", "private",   "deleted", "unavailable",
};

const char *tw_scan_state_str(tw_scan_state_t state)
{
    if (state == TW_SCAN_ST_VIDEO)
        return "video";
    if ((int)state < 0 || (size_t)state >= sizeof s_states / sizeof s_states[0])
        return "unknown";
    return s_states[state];
}

tw_rc_t tw_scan_state_parse(const char *s, size_t len, tw_scan_state_t *out)
{
    if (len == 5 && memcmp(s, "video", 5) == 0) {
        *out = TW_SCAN_ST_VIDEO;
        return TW_OK;
    }
    for (size_t i = 0; i < sizeof s_states / sizeof s_states[0]; i++)
        if (strlen(s_states[i]) == len && memcmp(s_states[i], s, len) == 0) {
            *out = (tw_scan_state_t)i;
            return TW_OK;
        }
    return TW_ERR_INVALID;
}

bool tw_scan_state_final(tw_scan_state_t state)
{
    return state != TW_SCAN_ST_UNKNOWN && !tw_scan_state_tracked(state);
}

bool tw_scan_state_tracked(tw_scan_state_t state)
{
    return state == TW_SCAN_ST_SCHEDULED || state == TW_SCAN_ST_LIVE;
}

tw_rc_t tw_scan_path(char *out, size_t cap, const char *state_dir,
                     tw_scan_file_t which)
{
    assert(out);
    assert(state_dir);
    static const char *const names[] = {
        [TW_SCAN_FILE_STREAMS] = "scanner/streams.tsv",
        [TW_SCAN_FILE_HANDLES] = "scanner/handles.tsv",
        [TW_SCAN_FILE_FEEDS] = "scanner/feeds.tsv",
    };
    if ((size_t)which >= sizeof names / sizeof names[0])
        return TW_ERR_INVALID;
    if ((size_t)snprintf(out, cap, "%s/%s", state_dir, names[which]) >= cap)
        return TW_ERR_TOOBIG;
    return TW_OK;
}

static int64_t s_time_field(const tw_tsv_field_t *f)
{
    int64_t t = 0;
    if (f->len == 0 || tw_time_parse_n(f->ptr, f->len, &t, NULL) != TW_OK)
        return 0;
    return t;
}

/* Columns of streams.tsv. */
#define S_HEADER                                                               \
    "video_id\tchannel_id\tstate\tscheduled_start\tactual_start\tactual_end\t" \
    "spawn_not_before\tupdated_at\tchecked_at\treason\ttitle\n"
#define S_NCOLS 11

tw_rc_t tw_scan_streams_parse(const char *data, size_t len,
                              tw_scan_stream_t **out, size_t *n, tw_err_t *err)
{
    *out = NULL;
    *n = 0;
    size_t off = 0, ll, cap = 0;
    const char *line;
    bool first = true;
    while (tw_tsv_next_line(data, len, &off, &line, &ll, NULL)) {
        if (first) {
            first = false;
            if (ll >= 8 && memcmp(line, "video_id", 8) == 0)
                continue;
        }
        tw_tsv_field_t f[S_NCOLS];
        tw_scan_stream_t s;
        memset(&s, 0, sizeof s);
        if (tw_tsv_split(line, ll, f, S_NCOLS) != S_NCOLS ||
            !s_field(&f[0], s.video_id, sizeof s.video_id) ||
            !tw_id_is_video(s.video_id) ||
            !s_field(&f[1], s.channel_id, sizeof s.channel_id) ||
            !s_field(&f[9], s.reason, sizeof s.reason))
            continue;
        if (tw_scan_state_parse(f[2].ptr, f[2].len, &s.state) != TW_OK)
            continue;
        s.scheduled_us = s_time_field(&f[3]);
        s.start_us = s_time_field(&f[4]);
        s.end_us = s_time_field(&f[5]);
        s.spawn_nb_us = s_time_field(&f[6]);
        s.updated_us = s_time_field(&f[7]);
        s.checked_us = s_time_field(&f[8]);
        if (!s_field(&f[10], s.title, sizeof s.title))
            s.title[0] = '\0';
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            tw_scan_stream_t *v = realloc(*out, ncap * sizeof *v);
            if (!v) {
                free(*out);
                *out = NULL;
                *n = 0;
                tw_err_set(err, "out of memory");
                return TW_ERR_NOMEM;
            }
            *out = v;
            cap = ncap;
        }
        (*out)[(*n)++] = s;
    }
    return TW_OK;
}

tw_rc_t tw_scan_streams_load(const char *path, tw_scan_stream_t **out,
                             size_t *n, tw_err_t *err)
{
    *out = NULL;
    *n = 0;
    char *data = NULL;
    size_t len = 0;
    tw_rc_t rc = tw_file_read_all(path, TW_SCAN_FILE_MAX, &data, &len, err);
    if (rc == TW_ERR_NOTFOUND)
        return TW_OK;
    if (rc != TW_OK)
        return rc;
    rc = tw_scan_streams_parse(data, len, out, n, err);
    free(data);
    return rc;
}

static void s_put_time(tw_buf_t *b, int64_t us)
{
    char ts[TW_TIME_STR_SIZE];
    if (us)
        tw_buf_append_str(b, tw_time_format(us, ts));
    tw_buf_append_byte(b, '\t');
}

tw_rc_t tw_scan_streams_save(const char *path, const tw_scan_stream_t *v,
                             size_t n, tw_err_t *err)
{
    tw_buf_t *b = tw_buf_new();
    if (!b) {
        tw_err_set(err, "out of memory");
        return TW_ERR_NOMEM;
    }
    tw_buf_append_str(b, S_HEADER);
    for (size_t i = 0; i < n; i++) {
        const tw_scan_stream_t *s = &v[i];
        tw_buf_printf(b, "%s\t%s\t%s\t", s->video_id, s->channel_id,
                      tw_scan_state_str(s->state));
        s_put_time(b, s->scheduled_us);
        s_put_time(b, s->start_us);
        s_put_time(b, s->end_us);
        s_put_time(b, s->spawn_nb_us);
        s_put_time(b, s->updated_us);
        s_put_time(b, s->checked_us);
        tw_tsv_escape(b, s->reason, strlen(s->reason));
        tw_buf_append_byte(b, '\t');
        tw_tsv_escape(b, s->title, strlen(s->title));
        tw_buf_append_byte(b, '\n');
    }
    tw_rc_t rc =
        tw_file_write_atomic(path, tw_buf_data(b), tw_buf_len(b), 0644, err);
    tw_buf_destroy(&b);
    return rc;
}
