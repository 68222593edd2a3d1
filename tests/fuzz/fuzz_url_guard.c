/* libFuzzer target for webhook endpoint URLs: URL parsing and the SSRF
 * guard (connectors/webhook/policy/ssrf_guard.h), and allow-list parsing.
 *   up to a NUL   the allow-list ("127.0.0.0/8, fd00::/8")
 *   the rest      the URL
 * Name resolution is pinned to numeric hosts (getaddrinfo below), so a
 * fuzz run never asks DNS anything. Besides sanitizer reports, it aborts
 * when an accepted URL's address is one the guard refuses and no allowed
 * block covers (an IPv6 form of an allowed IPv4 address is allowed).
 * Built and run by tests/fuzz/run.sh. */
#include "connectors/webhook/policy/ssrf_guard.h"
#include "support/fuzz_input.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>

/* The guard's lookups go here: numeric hosts only, never the network. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
    static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
    if (!real && !(real = (int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))dlsym(
                       RTLD_NEXT, "getaddrinfo")))
        return EAI_FAIL;
    struct addrinfo numeric = {0};
    if (hints)
        numeric = *hints;
    numeric.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
    return real(node, service, &numeric, res);
}

static bool covered(const bl_ssrf_allowlist *allow, int family, const uint8_t *addr)
{
    for (size_t i = 0; i < allow->count; i++) {
        const bl_cidr *c = &allow->cidrs[i];
        if (c->family != family)
            continue;
        unsigned bits = c->prefix, full = bits / 8, rest = bits % 8;
        if (memcmp(c->addr, addr, full) != 0)
            continue;
        if (rest && ((c->addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest))))
            continue;
        return true;
    }
    return false;
}

/* Whether the allow-list lets addr through: its own family, or, for an
 * IPv6 address that carries an IPv4 one (::ffff:a.b.c.d, 64:ff9b::a.b.c.d,
 * 2002:aabb:ccdd::), the IPv4 it reaches. */
static bool allowed_through(const bl_ssrf_allowlist *allow, int family, const uint8_t *addr)
{
    if (covered(allow, family, addr))
        return true;
    if (family != AF_INET6)
        return false;
    static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (memcmp(addr, mapped, 12) == 0 || memcmp(addr, nat64, 12) == 0)
        return covered(allow, AF_INET, addr + 12);
    if (addr[0] == 0x20 && addr[1] == 0x02)
        return covered(allow, AF_INET, addr + 2);
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_parts p;
    if (fuzz_parts_split(data, size, 2, &p) != 0)
        return 0;
    bl_err err = {0};
    bl_ssrf_allowlist allow;
    if (bl_ssrf_allowlist_parse(p.part[0], &allow, &err) != 0)
        allow.count = 0;
    bl_ssrf_target target;
    if (strlen(p.part[1]) == p.len[1] && bl_ssrf_check_url(p.part[1], &allow, &target, &err) == 0) {
        uint8_t addr[16];
        if (inet_pton(target.family, target.address, addr) != 1)
            fuzz_finding("an accepted URL's address does not parse", target.address);
        if (bl_ssrf_address_refusal(target.family, addr) && !allowed_through(&allow, target.family, addr))
            fuzz_finding("an accepted URL reaches a refused address", p.part[1]);
        char entry[BL_SSRF_HOST_MAX + INET6_ADDRSTRLEN + 16];
        if (bl_ssrf_resolve_entry(&target, entry, sizeof entry) != 0)
            fuzz_finding("no resolve entry for an accepted URL", p.part[1]);
    }
    fuzz_parts_free(&p);
    return 0;
}
