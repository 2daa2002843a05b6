/* png-probe - reads the pixels of an 8-bit RGB/RGBA PNG (what rsvg-convert
 * writes) for the shell tests:
 *   png-probe FILE size                    prints "WIDTH HEIGHT"
 *   png-probe FILE top RRGGBB X0 X1 Y0 Y1  prints "X Y": the column in
 *       [X0, X1) whose topmost pixel of colour RRGGBB (each channel within
 *       24) inside rows [Y0, Y1) is highest, and that row; "none" if none.
 * Exit 0 ok, 1 no such pixel, 100 usage, 111 unreadable or unsupported. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t s_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int s_paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/* Decodes FILE into *px (RGB(A) rows, bpp bytes a pixel). */
static int s_load(const char *path, unsigned char **px, uint32_t *w,
                  uint32_t *h, int *bpp)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static unsigned char buf[64 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n < 33 || memcmp(buf, "\x89PNG\r\n\x1a\n", 8) != 0)
        return -1;
    unsigned char *idat = NULL;
    size_t idat_len = 0;
    int depth = 0, ctype = 0, interlace = 0;
    for (size_t off = 8; off + 12 <= n;) {
        uint32_t len = s_be32(buf + off);
        const unsigned char *type = buf + off + 4, *data = buf + off + 8;
        if (len > n - off - 12)
            return -1;
        if (memcmp(type, "IHDR", 4) == 0 && len >= 13) {
            *w = s_be32(data);
            *h = s_be32(data + 4);
            depth = data[8];
            ctype = data[9];
            interlace = data[12];
        } else if (memcmp(type, "IDAT", 4) == 0) {
            unsigned char *p = realloc(idat, idat_len + len);
            if (!p)
                return -1;
            idat = p;
            memcpy(idat + idat_len, data, len);
            idat_len += len;
        }
        off += 12 + (size_t)len;
    }
    if (depth != 8 || (ctype != 2 && ctype != 6) || interlace || !idat ||
        *w == 0 || *h == 0 || *w > 20000 || *h > 20000)
        return -1;
    *bpp = ctype == 6 ? 4 : 3;
    size_t stride = (size_t)*w * (size_t)*bpp;
    uLongf raw_len = (uLongf)((stride + 1) * *h);
    unsigned char *raw = malloc(raw_len);
    *px = malloc(stride * *h);
    if (!raw || !*px ||
        uncompress(raw, &raw_len, idat, (uLong)idat_len) != Z_OK ||
        raw_len != (stride + 1) * *h)
        return -1;
    free(idat);
    for (uint32_t y = 0; y < *h; y++) {
        const unsigned char *in = raw + y * (stride + 1) + 1;
        unsigned char *out = *px + y * stride;
        const unsigned char *up = y ? out - stride : NULL;
        int filter = in[-1];
        for (size_t i = 0; i < stride; i++) {
            int a = i >= (size_t)*bpp ? out[i - *bpp] : 0;
            int b = up ? up[i] : 0;
            int c = up && i >= (size_t)*bpp ? up[i - *bpp] : 0;
            int pred = filter == 1   ? a
                       : filter == 2 ? b
                       : filter == 3 ? (a + b) / 2
                       : filter == 4 ? s_paeth(a, b, c)
                                     : 0;
            out[i] = (unsigned char)(in[i] + pred);
        }
    }
    free(raw);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 100;
    unsigned char *px = NULL;
    uint32_t w = 0, h = 0;
    int bpp = 0;
    if (s_load(argv[1], &px, &w, &h, &bpp) != 0) {
        fprintf(stderr, "png-probe: unable to decode %s\n", argv[1]);
        return 111;
    }
    if (strcmp(argv[2], "size") == 0) {
        printf("%u %u\n", w, h);
        free(px);
        return 0;
    }
    if (strcmp(argv[2], "top") != 0 || argc != 8 || strlen(argv[3]) != 6) {
        free(px);
        return 100;
    }
    unsigned long rgb = strtoul(argv[3], NULL, 16);
    int want[3] = {(int)(rgb >> 16 & 255), (int)(rgb >> 8 & 255),
                   (int)(rgb & 255)};
    long x0 = atol(argv[4]), x1 = atol(argv[5]), y0 = atol(argv[6]),
         y1 = atol(argv[7]);
    if (x0 < 0 || y0 < 0 || x1 > (long)w || y1 > (long)h) {
        free(px);
        return 100;
    }
    long best_x = -1, best_y = y1;
    for (long x = x0; x < x1; x++)
        for (long y = y0; y < best_y; y++) {
            const unsigned char *p = px + ((size_t)y * w + (size_t)x) * bpp;
            if (abs(p[0] - want[0]) <= 24 && abs(p[1] - want[1]) <= 24 &&
                abs(p[2] - want[2]) <= 24 && (bpp == 3 || p[3] > 200)) {
                best_x = x;
                best_y = y;
                break;
            }
        }
    free(px);
    if (best_x < 0) {
        printf("none\n");
        return 1;
    }
    printf("%ld %ld\n", best_x, best_y);
    return 0;
}
