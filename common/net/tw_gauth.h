/* tw_gauth - Google OAuth 2.0 access tokens for Drive: the refresh-token
 * grant (client_secrets.json + a token file written by the device-code
 * flow of `tubewatch drive-auth`) or a service account's signed JWT (RS256),
 * with caching and early refresh. Secrets are registered with
 * tw_log_add_secret and never appear in errors. */
#ifndef TW_GAUTH_H
#define TW_GAUTH_H

#include <stdint.h>
#include <stdio.h>

#include "tw_cfg.h"
#include "tw_rc.h"

/* The scope tubewatch asks for: files the app creates. */
#define TW_GAUTH_SCOPE_DRIVE_FILE "https://www.googleapis.com/auth/drive.file"
/* The audience of service-account JWTs. */
#define TW_GAUTH_AUD "https://oauth2.googleapis.com/token"

/* A source of access tokens. */
typedef struct tw_gauth tw_gauth_t;

/* Sleeps ms milliseconds (device-code polling, tests inject their own);
 * returns non-zero to abort the wait. */
typedef int(tw_gauth_sleep_fn)(uint32_t ms, void *arg);

/* Creates a token source from [drive]: the service account when
 * service_account_file is set, else client_secrets_file + token_file. The
 * token endpoint is oauth_base_url + "/token" (it overrides the files'
 * token_uri). Nothing is fetched yet. Returns TW_ERR_CONFIG with the reason
 * in err when a file is missing, unsafe (token or key readable by others)
 * or malformed; TW_ERR_AUTH when the token file is missing or holds no
 * refresh token (the message says to run `tubewatch drive-auth`). */
tw_rc_t tw_gauth_new(tw_gauth_t **self_p, const tw_cfg_drive_t *cfg,
                     tw_err_t *err);
/* Frees *self_p and sets it to NULL; safe to call twice. */
void tw_gauth_destroy(tw_gauth_t **self_p);

/* Stores in *token a valid access token (borrowed until the next call),
 * fetching a new one when none is cached or the cached one expires within
 * the early-refresh margin. Returns TW_ERR_AUTH for a dead refresh token
 * (invalid_grant: "run tubewatch drive-auth again"), a rejected JWT or a bad
 * client (never retried in a loop); TW_ERR_AGAIN/TW_ERR_NET/TW_ERR_TIMEOUT
 * when the endpoint could not be reached (retry later). */
tw_rc_t tw_gauth_token(tw_gauth_t *self, const char **token, tw_err_t *err);
/* Forgets the cached access token (after a 401 from an API). */
void tw_gauth_invalidate(tw_gauth_t *self);
/* Number of tokens fetched so far (tests). */
uint32_t tw_gauth_fetches(const tw_gauth_t *self);

/* Runs the device-code flow with client_secrets_file: POST /device/code,
 * prints the verification URL and user code to out, polls /token honouring
 * interval, slow_down, authorization_pending, expired_token and
 * access_denied, and writes the refresh token to token_file (mode 0600,
 * atomically). sleep_fn may be NULL (nanosleep). Returns TW_ERR_AUTH when
 * the user denied or the code expired, TW_ERR_CONFIG for bad files. */
tw_rc_t tw_gauth_device_flow(const tw_cfg_drive_t *cfg, FILE *out,
                             tw_gauth_sleep_fn *sleep_fn, void *sleep_arg,
                             tw_err_t *err);

/* Builds a signed service-account JWT (RS256) for iss with scope and aud,
 * issued at iat (Unix seconds), expiring an hour later, signed with the
 * PEM private key pem. Stores it (caller frees) in *jwt. Returns
 * TW_ERR_CONFIG when the key cannot be read or used. */
tw_rc_t tw_gauth_jwt(const char *iss, const char *scope, const char *aud,
                     int64_t iat, const char *pem, char **jwt, tw_err_t *err);
/* Returns the base64url (no padding) encoding of len bytes (caller frees),
 * or NULL when out of memory. */
char *tw_gauth_b64url(const void *data, size_t len);

#endif
