/* tw_rss - Atom feed reader on expat with namespace processing. */
#include "tw_rss.h"

#include <assert.h>
#include <expat.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tw_json.h"
#include "tw_strpool.h"
#include "tw_ytchat.h"

#define NS_ATOM  "http://www.w3.org/2005/Atom"
#define NS_YT    "http://www.youtube.com/xml/schemas/2015"
#define NS_MEDIA "http://search.yahoo.com/mrss/"
#define MAX_TEXT (64 * 1024)

/* Which text is being collected. */
typedef enum {
    F_NONE = 0,   /* nothing */
    F_VIDEO_ID,   /* entry yt:videoId */
    F_CHANNEL,    /* entry yt:channelId */
    F_TITLE,      /* entry title */
    F_PUBLISHED,  /* entry published */
    F_UPDATED,    /* entry updated */
    F_ID,         /* entry id */
    F_FEED_CHAN,  /* feed yt:channelId */
    F_FEED_TITLE, /* feed title */
} s_field_t;

struct tw_rss {
    tw_strpool_t pool;      /* owned strings */
    tw_rss_entry_t *ents;   /* entries */
    size_t nents;           /* in use */
    size_t ecap;            /* allocated */
    const char *feed_chan;  /* feed-level channel id (normalised) */
    const char *feed_title; /* feed title */
    int depth;              /* current element depth (root = 1) */
    int entry_depth;        /* depth of the open <entry>, 0 outside */
    bool is_feed;           /* root element is Atom <feed> */
    s_field_t field;        /* text being collected */
    char *text;             /* collected text */
    size_t tlen;            /* bytes in text */
    size_t tcap;            /* bytes allocated */
    const char *entry_id;   /* <id> of the open entry */
    bool nomem;             /* an allocation failed */
};

tw_rss_t *tw_rss_new(void)
{
    tw_rss_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->feed_chan = "";
    self->feed_title = "";
    return self;
}

static void s_reset(tw_rss_t *self)
{
    tw_strpool_clear(&self->pool);
    self->nents = 0;
    self->feed_chan = "";
    self->feed_title = "";
    self->depth = 0;
    self->entry_depth = 0;
    self->is_feed = false;
    self->field = F_NONE;
    self->tlen = 0;
    self->entry_id = "";
    self->nomem = false;
}

void tw_rss_destroy(tw_rss_t **self_p)
{
    assert(self_p);
    tw_rss_t *self = *self_p;
    if (!self)
        return;
    s_reset(self);
    tw_strpool_fini(&self->pool);
    free(self->ents);
    free(self->text);
    free(self);
    *self_p = NULL;
}

static const char *s_keep(tw_rss_t *self, const char *s, size_t n)
{
    const char *c = tw_strpool_keep(&self->pool, s, n);
    if (!c) {
        self->nomem = true;
        return "";
    }
    return c;
}

/* Splits an expat "uri|local" name; *ns is "" for no namespace. */
static const char *s_local(const char *name, const char **ns, size_t *nslen)
{
    const char *bar = strchr(name, '|');
    if (!bar) {
        *ns = "";
        *nslen = 0;
        return name;
    }
    *ns = name;
    *nslen = (size_t)(bar - name);
    return bar + 1;
}

static bool s_ns_is(const char *ns, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(ns, want, n) == 0;
}

static void XMLCALL s_start(void *ud, const XML_Char *name,
                            const XML_Char **attrs)
{
    tw_rss_t *self = ud;
    const char *ns;
    size_t nslen;
    const char *local = s_local(name, &ns, &nslen);
    bool atom = nslen == 0 || s_ns_is(ns, nslen, NS_ATOM);
    bool yt = s_ns_is(ns, nslen, NS_YT);
    self->depth++;
    self->field = F_NONE;
    self->tlen = 0;
    if (self->depth == 1) {
        self->is_feed = atom && strcmp(local, "feed") == 0;
        return;
    }
    if (!self->is_feed)
        return;
    if (self->depth == 2 && atom && strcmp(local, "entry") == 0) {
        if (self->nents == self->ecap) {
            size_t ncap = self->ecap ? self->ecap * 2 : 16;
            tw_rss_entry_t *ne = realloc(self->ents, ncap * sizeof *ne);
            if (!ne) {
                self->nomem = true;
                return;
            }
            self->ents = ne;
            self->ecap = ncap;
        }
        self->ents[self->nents++] = (tw_rss_entry_t){
            "", "", "", "", "", 0, 0, -1,
        };
        self->entry_depth = 2;
        self->entry_id = "";
        return;
    }
    if (self->depth == 2) {
        if (yt && strcmp(local, "channelId") == 0)
            self->field = F_FEED_CHAN;
        else if (atom && strcmp(local, "title") == 0)
            self->field = F_FEED_TITLE;
        return;
    }
    if (!self->entry_depth || self->nents == 0)
        return;
    if (self->depth == 3) {
        if (yt && strcmp(local, "videoId") == 0)
            self->field = F_VIDEO_ID;
        else if (yt && strcmp(local, "channelId") == 0)
            self->field = F_CHANNEL;
        else if (atom && strcmp(local, "title") == 0)
            self->field = F_TITLE;
        else if (atom && strcmp(local, "published") == 0)
            self->field = F_PUBLISHED;
        else if (atom && strcmp(local, "updated") == 0)
            self->field = F_UPDATED;
        else if (atom && strcmp(local, "id") == 0)
            self->field = F_ID;
        return;
    }
    if (s_ns_is(ns, nslen, NS_MEDIA) && strcmp(local, "statistics") == 0) {
        for (size_t i = 0; attrs[i]; i += 2) {
            uint64_t v;
            if (strcmp(attrs[i], "views") == 0 &&
                tw_json_parse_u64(attrs[i + 1], strlen(attrs[i + 1]), &v) &&
                v <= INT64_MAX)
                self->ents[self->nents - 1].views = (int64_t)v;
        }
    }
}

static void XMLCALL s_text(void *ud, const XML_Char *s, int len)
{
    tw_rss_t *self = ud;
    if (self->field == F_NONE || len <= 0)
        return;
    size_t n = (size_t)len;
    if (self->tlen + n > MAX_TEXT)
        n = MAX_TEXT - self->tlen;
    if (self->tlen + n > self->tcap) {
        size_t ncap = self->tcap ? self->tcap : 256;
        while (ncap < self->tlen + n)
            ncap *= 2;
        char *nt = realloc(self->text, ncap);
        if (!nt) {
            self->nomem = true;
            return;
        }
        self->text = nt;
        self->tcap = ncap;
    }
    memcpy(self->text + self->tlen, s, n);
    self->tlen += n;
}

static int64_t s_time(const char *s)
{
    int64_t us;
    return tw_ytchat_parse_time(s, strlen(s), &us) ? us : 0;
}

static void XMLCALL s_end(void *ud, const XML_Char *name)
{
    tw_rss_t *self = ud;
    (void)name;
    if (self->field != F_NONE) {
        /* Trim surrounding white space of the collected text. */
        const char *t = self->text ? self->text : "";
        size_t a = 0, b = self->tlen;
        while (a < b &&
               (t[a] == ' ' || t[a] == '\n' || t[a] == '\t' || t[a] == '\r'))
            a++;
        while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\n' ||
                         t[b - 1] == '\t' || t[b - 1] == '\r'))
            b--;
        const char *v = s_keep(self, t + a, b - a);
        tw_rss_entry_t *e = self->nents ? &self->ents[self->nents - 1] : NULL;
        switch (self->field) {
        case F_VIDEO_ID:
            e->video_id = v;
            break;
        case F_CHANNEL:
            e->channel_id = v;
            break;
        case F_TITLE:
            e->title = v;
            break;
        case F_PUBLISHED:
            e->published = v;
            e->published_usec = s_time(v);
            break;
        case F_UPDATED:
            e->updated = v;
            e->updated_usec = s_time(v);
            break;
        case F_ID:
            self->entry_id = v;
            break;
        case F_FEED_CHAN:
            if (strlen(v) == 22) {
                char buf[25] = "UC";
                memcpy(buf + 2, v, 23);
                self->feed_chan = s_keep(self, buf, 24);
            } else {
                self->feed_chan = v;
            }
            break;
        case F_FEED_TITLE:
            self->feed_title = v;
            break;
        case F_NONE:
            break;
        }
        self->field = F_NONE;
        self->tlen = 0;
    }
    if (self->entry_depth && self->depth == self->entry_depth) {
        tw_rss_entry_t *e = &self->ents[self->nents - 1];
        static const char prefix[] = "yt:video:";
        if (!*e->video_id &&
            strncmp(self->entry_id, prefix, sizeof prefix - 1) == 0)
            e->video_id = self->entry_id + sizeof prefix - 1;
        self->entry_depth = 0;
    }
    self->depth--;
}

tw_rc_t tw_rss_parse(tw_rss_t *self, const char *buf, size_t len, tw_err_t *err)
{
    assert(self);
    assert(buf || len == 0);
    s_reset(self);
    if (len > INT_MAX) {
        tw_err_set(err, "feed too big (%zu bytes)", len);
        return TW_ERR_TOOBIG;
    }
    XML_Parser p = XML_ParserCreateNS(NULL, '|');
    if (!p)
        return TW_ERR_NOMEM;
    XML_SetUserData(p, self);
    XML_SetElementHandler(p, s_start, s_end);
    XML_SetCharacterDataHandler(p, s_text);
    tw_rc_t rc = TW_OK;
    if (XML_Parse(p, buf ? buf : "", (int)len, 1) != XML_STATUS_OK) {
        enum XML_Error code = XML_GetErrorCode(p);
        tw_err_setpos(err, (int)XML_GetCurrentLineNumber(p),
                      (int)XML_GetCurrentColumnNumber(p) + 1, "feed XML: %s",
                      XML_ErrorString(code));
        rc = code == XML_ERROR_NO_MEMORY ? TW_ERR_NOMEM : TW_ERR_PARSE;
    } else if (self->nomem) {
        tw_err_set(err, "out of memory");
        rc = TW_ERR_NOMEM;
    } else if (!self->is_feed) {
        tw_err_set(err, "not an Atom feed (root element is not <feed>)");
        rc = TW_ERR_PROTO;
    }
    XML_ParserFree(p);
    if (rc != TW_OK)
        s_reset(self);
    return rc;
}

size_t tw_rss_count(const tw_rss_t *self)
{
    assert(self);
    return self->nents;
}

const tw_rss_entry_t *tw_rss_entry(const tw_rss_t *self, size_t i)
{
    assert(self);
    assert(i < self->nents);
    return &self->ents[i];
}

const char *tw_rss_channel_id(const tw_rss_t *self)
{
    assert(self);
    return self->feed_chan;
}

const char *tw_rss_title(const tw_rss_t *self)
{
    assert(self);
    return self->feed_title;
}
