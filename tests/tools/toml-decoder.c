/* toml-decoder - toml-test decoder: TOML on stdin, tagged JSON on stdout.
 * Exit codes: 0 valid input, 1 invalid input (error on stderr), 111 I/O
 * error, 101 internal bug. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tw_rc.h"
#include "tw_toml.h"

/* Writes len bytes of s as a JSON string. */
static void s_json_str(FILE *out, const char *s, size_t len)
{
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\b':
            fputs("\\b", out);
            break;
        case '\f':
            fputs("\\f", out);
            break;
        default:
            if (c < 0x20 || c == 0x7F)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

/* Writes a date/time value of the given type in RFC 3339 form. */
static void s_datetime(FILE *out, tw_toml_type_t type,
                       const tw_toml_datetime_t *dt)
{
    char buf[64];
    size_t o = 0;
    if (type != TW_TOML_TIME_LOCAL)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%04d-%02d-%02d",
                              dt->year, dt->month, dt->day);
    if (type == TW_TOML_DATE_LOCAL) {
        s_json_str(out, buf, o);
        return;
    }
    if (type != TW_TOML_TIME_LOCAL)
        buf[o++] = 'T';
    o += (size_t)snprintf(buf + o, sizeof buf - o, "%02d:%02d:%02d", dt->hour,
                          dt->minute, dt->second);
    if (dt->frac_digits > 0) {
        int digits = dt->frac_digits > 9 ? 9 : dt->frac_digits;
        char frac[16];
        snprintf(frac, sizeof frac, "%09d", dt->nanosecond);
        o += (size_t)snprintf(buf + o, sizeof buf - o, ".%.*s", digits, frac);
    }
    if (type == TW_TOML_DATETIME) {
        if (dt->offset_z) {
            buf[o++] = 'Z';
        } else {
            int off = dt->offset_min;
            char sign = off < 0 ? '-' : '+';
            if (off < 0)
                off = -off;
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%c%02d:%02d", sign,
                                  off / 60, off % 60);
        }
    }
    s_json_str(out, buf, o);
}

/* Writes a tagged scalar {"type": ..., "value": ...}. */
static void s_tagged(FILE *out, const char *type, const char *value)
{
    fprintf(out, "{\"type\":\"%s\",\"value\":", type);
    s_json_str(out, value, strlen(value));
    fputc('}', out);
}

/* Writes node as tagged JSON (recursion is bounded by the parser). */
static void s_node(FILE *out, const tw_toml_t *node)
{
    tw_toml_type_t type = tw_toml_type(node);
    char buf[64];
    switch (type) {
    case TW_TOML_TABLE:
        fputc('{', out);
        for (size_t i = 0; i < tw_toml_len(node); i++) {
            size_t klen;
            const char *key = tw_toml_key_at(node, i, &klen);
            if (i)
                fputc(',', out);
            s_json_str(out, key, klen);
            fputc(':', out);
            s_node(out, tw_toml_at(node, i));
        }
        fputc('}', out);
        break;
    case TW_TOML_ARRAY:
        fputc('[', out);
        for (size_t i = 0; i < tw_toml_len(node); i++) {
            if (i)
                fputc(',', out);
            s_node(out, tw_toml_at(node, i));
        }
        fputc(']', out);
        break;
    case TW_TOML_STRING:
        fputs("{\"type\":\"string\",\"value\":", out);
        s_json_str(out, tw_toml_str(node), tw_toml_str_len(node));
        fputc('}', out);
        break;
    case TW_TOML_INTEGER:
        snprintf(buf, sizeof buf, "%lld", (long long)tw_toml_int(node));
        s_tagged(out, "integer", buf);
        break;
    case TW_TOML_FLOAT: {
        double f = tw_toml_float(node);
        if (isnan(f))
            snprintf(buf, sizeof buf, "nan");
        else if (isinf(f))
            snprintf(buf, sizeof buf, "%sinf", f < 0 ? "-" : "");
        else
            snprintf(buf, sizeof buf, "%.17g", f);
        s_tagged(out, "float", buf);
        break;
    }
    case TW_TOML_BOOL:
        s_tagged(out, "bool", tw_toml_bool(node) ? "true" : "false");
        break;
    case TW_TOML_DATETIME:
    case TW_TOML_DATETIME_LOCAL:
    case TW_TOML_DATE_LOCAL:
    case TW_TOML_TIME_LOCAL:
        fprintf(out, "{\"type\":\"%s\",\"value\":", tw_toml_type_name(type));
        s_datetime(out, type, tw_toml_datetime(node));
        fputc('}', out);
        break;
    }
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: toml-decoder < file.toml\n"
                        "exit: 0 valid, 1 invalid TOML, 111 I/O error\n");
        return TW_EXIT_USAGE;
    }
    size_t len = 0, cap = 65536;
    char *text = malloc(cap);
    if (!text)
        return TW_EXIT_TEMP;
    for (;;) {
        if (len == cap) {
            cap *= 2;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                return TW_EXIT_TEMP;
            }
            text = t;
        }
        size_t got = fread(text + len, 1, cap - len, stdin);
        if (got == 0)
            break;
        len += got;
    }
    if (ferror(stdin)) {
        fprintf(stderr, "toml-decoder: unable to read stdin\n");
        free(text);
        return TW_EXIT_TEMP;
    }
    tw_err_t err;
    tw_toml_t *root = tw_toml_parse(text, len, &err);
    free(text);
    if (!root) {
        fprintf(stderr, "toml-decoder: %d:%d: %s\n", err.line, err.col,
                err.msg);
        return 1;
    }
    s_node(stdout, root);
    fputc('\n', stdout);
    tw_toml_destroy(&root);
    if (fflush(stdout) != 0)
        return TW_EXIT_TEMP;
    return 0;
}
