/* tw_shard - splitting the channels between hosts (see tw_shard.h). */
#include "tw_shard.h"

#include <assert.h>
#include <string.h>

tw_rc_t tw_shard_parse(const char *text, tw_shard_t *out, tw_err_t *err)
{
    assert(text);
    assert(out);
    if (*text == '\0') {
        *out = (tw_shard_t){1, 1};
        return TW_OK;
    }
    uint64_t v[2] = {0, 0};
    const char *p = text;
    for (int i = 0; i < 2; i++) {
        if (*p < '0' || *p > '9')
            goto bad;
        while (*p >= '0' && *p <= '9') {
            v[i] = v[i] * 10 + (uint64_t)(*p - '0');
            if (v[i] > TW_SHARD_MAX)
                goto bad;
            p++;
        }
        if (i == 0 && *p++ != '/')
            goto bad;
    }
    if (*p != '\0' || v[1] == 0 || v[0] == 0 || v[0] > v[1])
        goto bad;
    *out = (tw_shard_t){(uint32_t)v[0], (uint32_t)v[1]};
    return TW_OK;
bad:
    tw_err_set(err,
               "shard must be \"K/N\" with 1 <= K <= N <= %d (this host's "
               "share of N), not \"%.64s\"",
               TW_SHARD_MAX, text);
    return TW_ERR_INVALID;
}

uint64_t tw_shard_hash(const char *id)
{
    assert(id);
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) {
        h ^= *p;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

uint32_t tw_shard_of(const char *id, uint32_t n)
{
    assert(id);
    if (n <= 1)
        return 1;
    return 1 + (uint32_t)(tw_shard_hash(id) % n);
}

bool tw_shard_owns(const tw_shard_t *shard, const char *id)
{
    assert(shard);
    assert(id);
    return shard->n <= 1 || tw_shard_of(id, shard->n) == shard->k;
}
