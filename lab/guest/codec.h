/* Two small codecs the guest agent and its tests share: the CRC-32 the
 * agent prints for a file it wrote (the tests compute it on their side),
 * and the base64 encoding nova gives inject_file (the tests make requests
 * with it; the agent decodes). Header-only: the agent is a static guest
 * program that links nothing of the project's. */
#ifndef NOVAXL_LAB_GUEST_CODEC_H
#define NOVAXL_LAB_GUEST_CODEC_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 (IEEE 802.3, zlib's and gzip's). */
static inline uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

/* Base64 of in's n bytes into out (size bytes with its NUL; cut short
 * when it does not fit). */
static inline void b64_encode(const char *in, size_t n, char *out, size_t size)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;

    for (size_t i = 0; i < n && o + 5 < size; i += 3) {
        unsigned v = (unsigned)(unsigned char)in[i] << 16;

        if (i + 1 < n)
            v |= (unsigned)(unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

#endif /* NOVAXL_LAB_GUEST_CODEC_H */
