/* SSRF guard: URL checks over libcurl's own URL parser (so the guard and the
 * client agree on the host), getaddrinfo, and a table of non-public ranges. */
#include "connectors/webhook/policy/ssrf_guard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Non-public blocks (IANA special-purpose registries), with the reason shown. */
static const struct {
    const char *cidr;
    const char *why;
} refused_ranges[] = {
    {"0.0.0.0/8", "unspecified / this network (0.0.0.0/8)"},
    {"10.0.0.0/8", "private (10.0.0.0/8)"},
    {"100.64.0.0/10", "carrier-grade NAT (100.64.0.0/10)"},
    {"127.0.0.0/8", "loopback (127.0.0.0/8)"},
    {"169.254.0.0/16", "link-local (169.254.0.0/16)"},
    {"172.16.0.0/12", "private (172.16.0.0/12)"},
    {"192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)"},
    {"192.0.2.0/24", "documentation (192.0.2.0/24)"},
    {"192.88.99.0/24", "6to4 relay anycast (192.88.99.0/24)"},
    {"192.168.0.0/16", "private (192.168.0.0/16)"},
    {"198.18.0.0/15", "benchmarking (198.18.0.0/15)"},
    {"198.51.100.0/24", "documentation (198.51.100.0/24)"},
    {"203.0.113.0/24", "documentation (203.0.113.0/24)"},
    {"224.0.0.0/4", "multicast (224.0.0.0/4)"},
    {"240.0.0.0/4", "reserved / broadcast (240.0.0.0/4)"},
    {"::/128", "unspecified (::/128)"},
    {"::1/128", "loopback (::1/128)"},
    {"::/96", "IPv4-compatible, deprecated (::/96)"},
    {"64:ff9b:1::/48", "local-use NAT64 (64:ff9b:1::/48)"},
    {"100::/64", "discard-only (100::/64)"},
    {"2001::/23", "IETF protocol assignments, Teredo (2001::/23)"},
    {"2001:db8::/32", "documentation (2001:db8::/32)"},
    {"3fff::/20", "documentation (3fff::/20)"},
    {"fc00::/7", "unique local (fc00::/7)"},
    {"fe80::/10", "link-local (fe80::/10)"},
    {"fec0::/10", "site-local, deprecated (fec0::/10)"},
    {"ff00::/8", "multicast (ff00::/8)"},
};

/* Parses "addr[/prefix]" of text[0..len). Returns 0 or -1 (why: what is wrong). */
static int cidr_parse(const char *text, size_t len, bl_cidr *out, const char **why)
{
    char buf[INET6_ADDRSTRLEN + 5];
    if (len == 0 || len >= sizeof buf) {
        *why = "not an address or CIDR";
        return -1;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(out, 0, sizeof *out);
    out->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(out->family, buf, out->addr) != 1) {
        *why = "not an address or CIDR";
        return -1;
    }
    unsigned max = out->family == AF_INET ? 32 : 128;
    out->prefix = max;
    if (slash) {
        char *end = NULL;
        unsigned long p = strtoul(slash + 1, &end, 10);
        if (!slash[1] || *end || slash[1] < '0' || slash[1] > '9' || p > max) {
            *why = "prefix length out of range";
            return -1;
        }
        out->prefix = (unsigned)p;
    }
    for (unsigned bit = out->prefix; bit < max; bit++) {
        if (out->addr[bit / 8] & (0x80 >> (bit % 8))) {
            *why = "address has bits set beyond its prefix";
            return -1;
        }
    }
    return 0;
}

static bool cidr_contains(const bl_cidr *c, int family, const uint8_t *addr)
{
    if (c->family != family)
        return false;
    unsigned full = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (c->addr[full] & mask) == (addr[full] & mask);
}

int bl_ssrf_allowlist_parse(const char *spec, bl_ssrf_allowlist *out, bl_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p = spec ? spec : "";
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ", ");
        if (out->count == BL_SSRF_ALLOW_MAX)
            return bl_err_set(err, BL_EINVAL, "ssrf allow-list: more than %d entries", BL_SSRF_ALLOW_MAX);
        const char *why = NULL;
        if (cidr_parse(p, len, &out->cidrs[out->count], &why) != 0)
            return bl_err_set(err, BL_EINVAL, "ssrf allow-list: \"%.*s\": %s", (int)(len > 64 ? 64 : len),
                              p, why);
        out->count++;
        p += len;
    }
    return 0;
}

/* The IPv4 address carried inside an IPv6 one (mapped, NAT64, 6to4), or NULL. */
static const uint8_t *embedded_ipv4(const uint8_t *a6)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    if (memcmp(a6, mapped, 12) == 0 || memcmp(a6, nat64, 12) == 0)
        return a6 + 12;
    if (a6[0] == 0x20 && a6[1] == 0x02) /* 6to4: 2002:AABB:CCDD::/48 */
        return a6 + 2;
    return NULL;
}

const char *bl_ssrf_address_refusal(int family, const uint8_t *addr)
{
    if (family == AF_INET6) {
        const uint8_t *v4 = embedded_ipv4(addr);
        if (v4) {
            const char *why = bl_ssrf_address_refusal(AF_INET, v4);
            return why ? "IPv4 embedded in IPv6 (mapped, NAT64 or 6to4) to a non-public address" : NULL;
        }
    }
    for (size_t i = 0; i < sizeof refused_ranges / sizeof refused_ranges[0]; i++) {
        bl_cidr c;
        const char *why = NULL;
        if (cidr_parse(refused_ranges[i].cidr, strlen(refused_ranges[i].cidr), &c, &why) == 0 &&
            cidr_contains(&c, family, addr))
            return refused_ranges[i].why;
    }
    if (family == AF_INET6 && (addr[0] & 0xe0) != 0x20)
        return "not global unicast (outside 2000::/3)";
    if (family != AF_INET && family != AF_INET6)
        return "not an IP address";
    return NULL;
}

static bool allowed(const bl_ssrf_allowlist *allow, int family, const uint8_t *addr)
{
    const uint8_t *v4 = family == AF_INET6 ? embedded_ipv4(addr) : NULL;
    for (size_t i = 0; allow && i < allow->count; i++) {
        if (cidr_contains(&allow->cidrs[i], family, addr) ||
            (v4 && cidr_contains(&allow->cidrs[i], AF_INET, v4)))
            return true;
    }
    return false;
}

/* Copies URL part `part` of u into out; missing parts give "". */
static int url_part(CURLU *u, CURLUPart part, unsigned flags, char *out, size_t out_len)
{
    char *v = NULL;
    out[0] = '\0';
    CURLUcode rc = curl_url_get(u, part, &v, flags);
    if (rc != CURLUE_OK)
        return rc;
    int too_long = strlen(v) >= out_len;
    if (!too_long)
        strcpy(out, v);
    curl_free(v);
    return too_long ? -1 : 0;
}

static bool url_has(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    if (curl_url_get(u, part, &v, 0) != CURLUE_OK)
        return false;
    curl_free(v);
    return true;
}

/* The URL checks that need no resolution; fills scheme, host, port. */
static int check_url_shape(const char *url, bl_ssrf_target *out, bl_err *err)
{
    if (!url || !*url)
        return bl_err_set(err, BL_EINVAL, "url: empty");
    if (strlen(url) > BL_SSRF_URL_MAX)
        return bl_err_set(err, BL_EINVAL, "url: longer than %d characters", BL_SSRF_URL_MAX);
    CURLU *u = curl_url();
    if (!u)
        return bl_err_set(err, BL_ENOMEM, "url: out of memory");
    int rc = -1;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        bl_err_set(err, BL_EINVAL, "url: %s", curl_url_strerror(uc));
        goto done;
    }
    if (url_part(u, CURLUPART_SCHEME, 0, out->scheme, sizeof out->scheme) != 0 ||
        (strcmp(out->scheme, "http") != 0 && strcmp(out->scheme, "https") != 0)) {
        bl_err_set(err, BL_EINVAL, "url: scheme must be http or https");
        goto done;
    }
    if (url_has(u, CURLUPART_USER) || url_has(u, CURLUPART_PASSWORD)) {
        bl_err_set(err, BL_EINVAL, "url: user or password in the URL is not allowed");
        goto done;
    }
    if (url_has(u, CURLUPART_ZONEID)) {
        bl_err_set(err, BL_EINVAL, "url: IPv6 zone ids are not allowed");
        goto done;
    }
    char host[BL_SSRF_HOST_MAX + 3];
    if (url_part(u, CURLUPART_HOST, 0, host, sizeof host) != 0 || !host[0]) {
        bl_err_set(err, BL_EINVAL, "url: no host, or host longer than %d characters", BL_SSRF_HOST_MAX);
        goto done;
    }
    size_t hl = strlen(host);
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        memcpy(out->host, host + 1, hl - 2);
        out->host[hl - 2] = '\0';
    } else if (hl <= BL_SSRF_HOST_MAX) {
        strcpy(out->host, host);
    } else {
        bl_err_set(err, BL_EINVAL, "url: host longer than %d characters", BL_SSRF_HOST_MAX);
        goto done;
    }
    char port[8];
    if (url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT, port, sizeof port) != 0) {
        bl_err_set(err, BL_EINVAL, "url: bad port");
        goto done;
    }
    char *end = NULL;
    long p = strtol(port, &end, 10);
    if (!port[0] || *end || p < 1 || p > 65535) {
        bl_err_set(err, BL_EINVAL, "url: port must be 1..65535");
        goto done;
    }
    out->port = (int)p;
    rc = 0;
done:
    curl_url_cleanup(u);
    return rc;
}

int bl_ssrf_check_url(const char *url, const bl_ssrf_allowlist *allow, bl_ssrf_target *out,
                      bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (check_url_shape(url, out, err) != 0)
        return -1;
    uint8_t probe[16];
    out->host_is_ip = inet_pton(AF_INET, out->host, probe) == 1 || inet_pton(AF_INET6, out->host, probe) == 1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (out->host_is_ip)
        hints.ai_flags = AI_NUMERICHOST;
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(out->host, NULL, &hints, &res);
    if (gai != 0)
        return bl_err_set(err, BL_ENOTFOUND, "ssrf: cannot resolve %s: %s", out->host, gai_strerror(gai));
    const char *first_refusal = NULL;
    char first_addr[INET6_ADDRSTRLEN] = "";
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        const uint8_t *bytes;
        if (ai->ai_family == AF_INET)
            bytes = (const uint8_t *)&((const struct sockaddr_in *)ai->ai_addr)->sin_addr;
        else if (ai->ai_family == AF_INET6)
            bytes = (const uint8_t *)&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
        else
            continue;
        const char *why = allowed(allow, ai->ai_family, bytes)
                              ? NULL : bl_ssrf_address_refusal(ai->ai_family, bytes);
        if (!why) {
            out->family = ai->ai_family;
            inet_ntop(ai->ai_family, bytes, out->address, sizeof out->address);
            break;
        }
        if (!first_refusal) {
            first_refusal = why;
            inet_ntop(ai->ai_family, bytes, first_addr, sizeof first_addr);
        }
    }
    freeaddrinfo(res);
    if (out->address[0])
        return 0;
    if (!first_refusal)
        return bl_err_set(err, BL_ENOTFOUND, "ssrf: %s has no IPv4 or IPv6 address", out->host);
    return bl_err_set(err, BL_EINVAL, "ssrf: %s%s%s is %s", out->host_is_ip ? "" : out->host,
                      out->host_is_ip ? "" : " resolves to ", first_addr, first_refusal);
}

int bl_ssrf_resolve_entry(const bl_ssrf_target *t, char *out, size_t out_len)
{
    if (out_len == 0)
        return -1;
    out[0] = '\0';
    if (t->host_is_ip)
        return 0;
    int n = snprintf(out, out_len, t->family == AF_INET6 ? "%s:%d:[%s]" : "%s:%d:%s", t->host, t->port,
                     t->address);
    if (n < 0 || (size_t)n >= out_len) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}
