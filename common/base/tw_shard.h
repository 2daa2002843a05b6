/* tw_shard - splitting the channels between hosts: "K/N" names shard K of
 * N (K from 1 to N); an id belongs to shard 1 + (FNV-1a 64 of its bytes mod
 * N), so every host with the same list agrees which one watches it
 * (docs/capture.md, "Shards"). */
#ifndef TW_SHARD_H
#define TW_SHARD_H

#include <stdbool.h>
#include <stdint.h>

#include "tw_rc.h"

/* Most shards. */
#define TW_SHARD_MAX 1024

/* One host's share; {1, 1} (and "" in the config) is everything. */
typedef struct {
    uint32_t k; /* this host's shard, 1..n */
    uint32_t n; /* number of shards, 1..TW_SHARD_MAX */
} tw_shard_t;

/* Parses "K/N" (decimal, 1 <= K <= N <= TW_SHARD_MAX; "" = "1/1") into
 * *out. TW_ERR_INVALID with err saying why otherwise. */
tw_rc_t tw_shard_parse(const char *text, tw_shard_t *out, tw_err_t *err);
/* FNV-1a 64 of the bytes of id (offset basis 14695981039346656037, prime
 * 1099511628211). */
uint64_t tw_shard_hash(const char *id);
/* The shard (1..n) id belongs to among n; 1 when n is 0. */
uint32_t tw_shard_of(const char *id, uint32_t n);
/* True when id belongs to this host's shard. */
bool tw_shard_owns(const tw_shard_t *shard, const char *id);

#endif
