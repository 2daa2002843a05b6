/* tw_telegram - a Telegram Bot API client over tw_http (sendMessage,
 * getMe): HTML escaping, splitting of long texts, and classification of
 * every error reply into what the caller must do (docs/notifier.md).
 * The bot token is registered with tw_log_add_secret and never appears in
 * an error message. */
#ifndef TW_TELEGRAM_H
#define TW_TELEGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw_rc.h"

/* Most characters of one message text (after entity parsing). */
#define TW_TELEGRAM_MAX_TEXT 4096

/* What a reply means for the caller. */
typedef enum {
    TW_TELEGRAM_OK = 0,        /* sent (result.message_id set) */
    TW_TELEGRAM_RETRY = 1,     /* 429, 5xx or no reply: send again after
                                  retry_after_ms (0: caller's backoff) */
    TW_TELEGRAM_CHAT_GONE = 2, /* 400 chat not found, 403 blocked, kicked,
                                  deactivated: stop sending to the chat */
    TW_TELEGRAM_MIGRATED = 3,  /* group became a supergroup: resend to
                                  migrate_to */
    TW_TELEGRAM_BAD_TOKEN = 4, /* 401 (or 404 on a malformed token) */
    TW_TELEGRAM_ENTITIES = 5,  /* 400 can't parse entities: resend without
                                  parse_mode */
    TW_TELEGRAM_REJECTED = 6,  /* any other 4xx: this message can never be
                                  sent (too long, empty, ...) */
} tw_telegram_status_t;

/* The outcome of one call. */
typedef struct {
    tw_telegram_status_t status; /* what to do */
    long http_status;            /* HTTP status, 0 when no reply */
    int error_code;              /* Telegram error_code, 0 when none */
    int64_t retry_after_ms;      /* RETRY: parameters.retry_after or the
                                    Retry-After header; 0 when not given */
    int64_t migrate_to;          /* MIGRATED: the new chat id */
    int64_t message_id;          /* OK (sendMessage): id of the message */
    char description[256];       /* Telegram's description, or our reason */
    char username[64];           /* OK (getMe): the bot's username */
} tw_telegram_result_t;

/* A client for one bot. */
typedef struct tw_telegram tw_telegram_t;

/* Returns a client for the bot token at base_url ("https://api.telegram.org"
 * or a simulator), with a per-request timeout (0: 10 s), or NULL when out of
 * memory or libcurl fails. Registers token as a log secret. */
tw_telegram_t *tw_telegram_new(const char *base_url, const char *token,
                               uint32_t timeout_ms);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_telegram_destroy(tw_telegram_t **self_p);

/* Sends text to chat_id (a number or "@channel") with parse_mode HTML when
 * html is true (else plain), link previews disabled. Makes exactly one
 * request (no retry inside). Returns TW_OK when a reply or a network
 * failure was classified into *res (check res->status), TW_ERR_INVALID
 * for an empty text or chat id, TW_ERR_NOMEM. */
tw_rc_t tw_telegram_send(tw_telegram_t *self, const char *chat_id,
                         const char *text, bool html, tw_telegram_result_t *res,
                         tw_err_t *err);
/* Calls getMe (the token check); res->username is set on success. Same
 * returns as tw_telegram_send. */
tw_rc_t tw_telegram_get_me(tw_telegram_t *self, tw_telegram_result_t *res,
                           tw_err_t *err);

/* Classifies one reply: http_status (0 = no reply), its body (may be NULL
 * or not JSON) and its Retry-After header (may be NULL). Fills *res;
 * never fails. */
void tw_telegram_parse_reply(long http_status, const char *body, size_t len,
                             const char *retry_after,
                             tw_telegram_result_t *res);
/* Returns the name of a status ("ok", "retry", ...). */
const char *tw_telegram_status_str(tw_telegram_status_t status);

/* Returns text[0..len) with & < > escaped for parse_mode HTML
 * (NUL-terminated, caller frees), or NULL when out of memory. Invalid UTF-8
 * bytes become U+FFFD; NUL bytes are dropped. */
char *tw_telegram_escape_html(const char *text, size_t len);
/* Length of text in UTF-16 code units, Telegram's unit for lengths. A
 * valid code point counts 1, or 2 above U+FFFF; an invalid byte counts 1. */
size_t tw_telegram_text_len(const char *text, size_t len);
/* Returns how many bytes of the plain text[0..len) go into the next
 * message of at most limit UTF-16 units: all of it when it fits; else the
 * longest prefix ending after a newline, else after a space, else at a
 * UTF-8 character boundary (never inside a sequence). Returns at least one
 * character when len > 0 and limit > 1. Escape each part afterwards: an
 * escaped entity counts one character, so parts never split one. */
size_t tw_telegram_split(const char *text, size_t len, size_t limit);

#endif
