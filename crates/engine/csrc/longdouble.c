/* Long-double arithmetic for INCRBYFLOAT and HINCRBYFLOAT.
 *
 * Redis computes these increments in C `long double` (80-bit x87 precision on x86-64) and
 * prints them with "%.17Lf" minus trailing zeros, which is why 10.5 + 0.1 shows as "10.6".
 * Rust has no long double, so the few operations we need live here, behind an opaque
 * 16-byte value. Written for Spinel; semantics follow Redis's string2ld/ld2string. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

typedef struct { unsigned char bytes[16]; } spinel_ld;

static long double ld_get(const spinel_ld *v) {
    long double x;
    memcpy(&x, v->bytes, sizeof(x));
    return x;
}

static void ld_put(spinel_ld *v, long double x) {
    memset(v->bytes, 0, sizeof(v->bytes));
    memcpy(v->bytes, &x, sizeof(x));
}

/* Parses a whole string as a long double: no leading space, nothing trailing, no NaN,
 * no overflow or underflow to zero. Returns 1 on success. */
int spinel_ld_parse(const char *s, size_t slen, spinel_ld *out) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    char *eptr;
    long double value;
    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';
    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' || (size_t)(eptr - buf) != slen ||
        (errno == ERANGE && (value == HUGE_VALL || value == -HUGE_VALL || fpclassify(value) == FP_ZERO)) ||
        errno == EINVAL || isnan(value))
        return 0;
    ld_put(out, value);
    return 1;
}

void spinel_ld_from_i64(long long n, spinel_ld *out) { ld_put(out, (long double)n); }

/* out = a + b; returns 0 if the sum is NaN or infinite. */
int spinel_ld_add(const spinel_ld *a, const spinel_ld *b, spinel_ld *out) {
    long double v = ld_get(a) + ld_get(b);
    ld_put(out, v);
    return !(isnan(v) || isinf(v));
}

/* Human-friendly text: "%.17Lf" without trailing zeros (and "-0" as "0"). */
size_t spinel_ld_format_human(const spinel_ld *v, char *buf, size_t len) {
    long double value = ld_get(v);
    size_t l;
    if (isinf(value)) {
        if (len < 5) return 0;
        if (value > 0) { memcpy(buf, "inf", 3); l = 3; } else { memcpy(buf, "-inf", 4); l = 4; }
        buf[l] = '\0';
        return l;
    }
    l = (size_t)snprintf(buf, len, "%.17Lf", value);
    if (l + 1 > len) return 0;
    if (strchr(buf, '.') != NULL) {
        char *p = buf + l - 1;
        while (*p == '0') { p--; l--; }
        if (*p == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') { buf[0] = '0'; l = 1; }
    buf[l] = '\0';
    return l;
}

/* "%.17Lg" text (Redis's LD_STR_AUTO). */
size_t spinel_ld_format_auto(const spinel_ld *v, char *buf, size_t len) {
    long double value = ld_get(v);
    size_t l;
    if (isinf(value)) {
        l = (size_t)snprintf(buf, len, "%s", value > 0 ? "inf" : "-inf");
        return l;
    }
    l = (size_t)snprintf(buf, len, "%.17Lg", value);
    return l + 1 > len ? 0 : l;
}

/* strtod with Redis's string2d checks. */
int spinel_parse_double(const char *s, size_t slen, double *out) {
    char *eptr;
    double value;
    errno = 0;
    value = strtod(s, &eptr);
    if (slen == 0 || isspace((unsigned char)s[0]) || (size_t)(eptr - s) != slen ||
        (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        isnan(value))
        return 0;
    *out = value;
    return 1;
}
