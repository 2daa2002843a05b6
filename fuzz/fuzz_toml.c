/* fuzz_toml - libFuzzer target: parse arbitrary bytes with tw_toml, walk
 * the whole tree through the public accessors, destroy it. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tw_toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Visits every node and every accessor of its type; returns a checksum so
 * the reads are not optimised away. */
static size_t s_walk(const tw_toml_t *node)
{
    size_t sum = 0;
    int line, col;
    tw_toml_pos(node, &line, &col);
    sum += (size_t)line + (size_t)col;
    tw_toml_type_t type = tw_toml_type(node);
    sum += strlen(tw_toml_type_name(type));
    switch (type) {
    case TW_TOML_TABLE:
        for (size_t i = 0; i < tw_toml_len(node); i++) {
            size_t klen = 0;
            const char *key = tw_toml_key_at(node, i, &klen);
            tw_toml_key_pos(node, i, &line, &col);
            const tw_toml_t *child = tw_toml_at(node, i);
            /* Lookup by key must find the same node. */
            if (tw_toml_getn(node, key, klen) != child)
                __builtin_trap();
            sum += klen + s_walk(child);
        }
        break;
    case TW_TOML_ARRAY:
        for (size_t i = 0; i < tw_toml_len(node); i++)
            sum += s_walk(tw_toml_at(node, i));
        break;
    case TW_TOML_STRING:
        sum += tw_toml_str_len(node) + (size_t)tw_toml_str(node)[0];
        break;
    case TW_TOML_INTEGER:
        sum += (size_t)tw_toml_int(node);
        break;
    case TW_TOML_FLOAT:
        sum += tw_toml_float(node) > 0;
        break;
    case TW_TOML_BOOL:
        sum += tw_toml_bool(node);
        break;
    default:
        sum += (size_t)tw_toml_datetime(node)->nanosecond;
        break;
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tw_err_t err;
    tw_toml_t *root = tw_toml_parse((const char *)data, size, &err);
    if (!root) {
        if (err.msg[0] == '\0')
            __builtin_trap();
        return 0;
    }
    volatile size_t sum = s_walk(root);
    (void)sum;
    tw_toml_destroy(&root);
    return 0;
}
