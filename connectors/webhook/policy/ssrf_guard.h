/* Keeps webhook deliveries off internal networks (SSRF): checks an endpoint
 * URL, resolves its host and refuses private, loopback, link-local,
 * multicast, reserved and other non-public addresses (IPv4 and IPv6,
 * including IPv4 embedded in IPv6) unless an allow-list CIDR covers them.
 * The checked address is returned so the delivery connects to exactly it
 * (CURLOPT_RESOLVE with bl_ssrf_resolve_entry, or CURLOPT_CONNECT_TO); the
 * client must also not follow redirects and not use a proxy of the
 * environment, or the check means nothing. The one proxy allowed is an
 * organization's own egress proxy (store/egress_proxy.h), itself checked
 * here: through it the destination is still checked, but the proxy resolves
 * the name again, so the pin does not hold there. Sends no traffic; only
 * getaddrinfo. */
#ifndef BUSLINE_CONNECTORS_WEBHOOK_POLICY_SSRF_GUARD_H
#define BUSLINE_CONNECTORS_WEBHOOK_POLICY_SSRF_GUARD_H

#include "core/err.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_SSRF_ALLOW_MAX 32
#define BL_SSRF_URL_MAX 2048
#define BL_SSRF_HOST_MAX 253

/* An address block: family AF_INET or AF_INET6, network bytes, prefix bits. */
typedef struct bl_cidr {
    int family;
    uint8_t addr[16];
    unsigned prefix;
} bl_cidr;

typedef struct bl_ssrf_allowlist {
    size_t count;
    bl_cidr cidrs[BL_SSRF_ALLOW_MAX];
} bl_ssrf_allowlist;

/* Parses a comma-separated list of CIDRs ("127.0.0.0/8, fd00::/8"; a bare
 * address means /32 or /128; empty or NULL means none) into out. A block with
 * bits set beyond its prefix is refused, as it is most likely a typo.
 * Returns 0, or -1 with BL_EINVAL naming the bad entry. */
int bl_ssrf_allowlist_parse(const char *spec, bl_ssrf_allowlist *out, bl_err *err);

/* Why an address (family AF_INET with 4 bytes or AF_INET6 with 16) may not be
 * called: a static text naming the range, e.g. "private (10.0.0.0/8)", or
 * NULL when it is public. Ignores any allow-list. */
const char *bl_ssrf_address_refusal(int family, const uint8_t *addr);

/* What a checked URL resolves to. */
typedef struct bl_ssrf_target {
    char scheme[6];                     /* "http" or "https" */
    char host[BL_SSRF_HOST_MAX + 1];    /* as curl parsed it; IPv6 without brackets */
    int port;                           /* explicit or the scheme's default */
    bool host_is_ip;                    /* the URL names an address, not a name */
    int family;                         /* AF_INET or AF_INET6 of address */
    char address[INET6_ADDRSTRLEN];     /* the checked address to connect to */
} bl_ssrf_target;

/* Checks url: http or https only, a host, no user or password, port 1..65535,
 * at most BL_SSRF_URL_MAX characters. Then resolves the host and picks the
 * first address that is public or on allow (may be NULL); other addresses of
 * the name are ignored, which is safe because the caller pins the one
 * returned. Fills out and returns 0; or returns -1 with err: BL_EINVAL for a
 * bad URL or a refused address ("ssrf: 10.1.2.3 is private (10.0.0.0/8)"),
 * BL_ENOTFOUND when the name does not resolve. */
int bl_ssrf_check_url(const char *url, const bl_ssrf_allowlist *allow, bl_ssrf_target *out,
                      bl_err *err);

/* Writes the CURLOPT_RESOLVE entry "host:port:address" (IPv6 address in
 * brackets) pinning t into out; for an IP-literal host there is nothing to
 * pin and out becomes "". Returns 0, or -1 when out_len is too small. */
int bl_ssrf_resolve_entry(const bl_ssrf_target *t, char *out, size_t out_len);

#endif
