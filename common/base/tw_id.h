/* tw_id - validation of YouTube ids and of names that become path
 * components, and parsing of channel and video URLs. */
#ifndef TW_ID_H
#define TW_ID_H

#include <stdbool.h>
#include <stddef.h>

#include "tw_rc.h"

#define TW_ID_VIDEO_LEN   11 /* characters in a video id */
#define TW_ID_CHANNEL_LEN 24 /* characters in a channel id ("UC" + 22) */
#define TW_ID_HANDLE_MAX  31 /* characters in a handle, '@' included */
#define TW_ID_MAX         64 /* room for any id or handle, NUL included */

/* What tw_id_parse_channel found. */
typedef enum {
    TW_ID_CHANNEL = 1, /* a channel id, UC + 22 characters */
    TW_ID_HANDLE = 2,  /* a handle, '@' + 3-30 characters */
} tw_id_kind_t;

/* Returns true when s is a video id: 11 of [A-Za-z0-9_-]. */
bool tw_id_is_video(const char *s);
/* Returns true when s is a channel id: "UC" + 22 of [A-Za-z0-9_-]. */
bool tw_id_is_channel(const char *s);
/* Returns true when s is a handle: '@' + 3-30 of [A-Za-z0-9._-]. */
bool tw_id_is_handle(const char *s);
/* Returns true when s is 1 to max_len of [A-Za-z0-9_-]: safe as a file or
 * directory name ("." and ".." cannot pass). */
bool tw_id_is_safe(const char *s, size_t max_len);
/* Like tw_id_is_safe for len bytes at s (no NUL needed). */
bool tw_id_is_safe_n(const char *s, size_t len, size_t max_len);

/* Parses a channel reference: "UC...", "@handle", or a URL such as
 * https://www.youtube.com/channel/UC..., youtube.com/@handle,
 * m.youtube.com/@handle/streams (scheme, "www."/"m.", trailing path,
 * query and fragment optional). Copies the id or "@handle" into out (cap
 * bytes, TW_ID_MAX is enough) and stores its kind in *kind (if not NULL).
 * Returns TW_ERR_INVALID with a reason in err for anything else (legacy
 * /c/ and /user/ URLs included: they need an API lookup). */
tw_rc_t tw_id_parse_channel(const char *in, char *out, size_t cap,
                            tw_id_kind_t *kind, tw_err_t *err);
/* Parses a video reference: a bare id, youtube.com/watch?v=ID,
 * youtube.com/live/ID, youtube.com/shorts/ID or youtu.be/ID. Copies the id
 * into out (cap >= 12). Returns TW_ERR_INVALID with a reason otherwise. */
tw_rc_t tw_id_parse_video(const char *in, char *out, size_t cap, tw_err_t *err);

#endif
