/* Uses IP literals and "localhost" only: nothing here asks a DNS server. */
#include "connectors/webhook/policy/ssrf_guard.h"
#include "tests/support/test.h"

#include <sys/socket.h>

/* Expects url to be refused with a message containing want. */
static void expect_refused(const char *url, const bl_ssrf_allowlist *allow, const char *want)
{
    bl_ssrf_target t;
    bl_err err = {0};
    int rc = bl_ssrf_check_url(url, allow, &t, &err);
    if (rc != -1 || !strstr(err.msg, want)) {
        fprintf(stderr, "  FAIL: %s: rc %d, \"%s\" not in \"%s\"\n", url ? url : "(null)", rc, want, err.msg);
        bl_test_current_failed = 1;
    }
}

static void every_non_public_ipv4_range_is_refused(void)
{
    const char *cases[][2] = {
        {"http://0.0.0.0/", "unspecified"},
        {"http://10.1.2.3/", "private (10.0.0.0/8)"},
        {"http://100.64.0.1/", "carrier-grade NAT"},
        {"http://100.127.255.254/", "carrier-grade NAT"},
        {"http://127.0.0.1/", "loopback"},
        {"http://127.255.0.9/", "loopback"},
        {"http://169.254.169.254/latest/meta-data", "link-local"},
        {"http://172.16.0.1/", "private (172.16.0.0/12)"},
        {"http://172.31.255.255/", "private (172.16.0.0/12)"},
        {"http://192.0.0.8/", "IETF protocol"},
        {"http://192.0.2.10/", "documentation"},
        {"http://192.88.99.1/", "6to4 relay"},
        {"http://192.168.1.1/", "private (192.168.0.0/16)"},
        {"http://198.18.0.1/", "benchmarking"},
        {"http://198.51.100.7/", "documentation"},
        {"http://203.0.113.7/", "documentation"},
        {"http://224.0.0.1/", "multicast"},
        {"http://239.255.255.250/", "multicast"},
        {"http://240.0.0.1/", "reserved"},
        {"http://255.255.255.255/", "reserved / broadcast"},
        /* Other spellings of loopback reach the same check after resolution. */
        {"http://2130706433/", "loopback"},
        {"http://0x7f.0.0.1/", "loopback"},
        {"http://127.1/", "loopback"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(cases[i][0], NULL, cases[i][1]);
}

static void every_non_public_ipv6_range_is_refused(void)
{
    const char *cases[][2] = {
        {"http://[::]/", "unspecified"},
        {"http://[::1]/", "loopback (::1/128)"},
        {"http://[::ffff:127.0.0.1]/", "IPv4 embedded"},
        {"http://[::ffff:10.0.0.1]/", "IPv4 embedded"},
        {"http://[::ffff:169.254.169.254]/", "IPv4 embedded"},
        {"http://[64:ff9b::a00:1]/", "IPv4 embedded"},       /* NAT64 of 10.0.0.1 */
        {"http://[2002:c0a8:101::1]/", "IPv4 embedded"},      /* 6to4 of 192.168.1.1 */
        {"http://[::10.0.0.1]/", "IPv4-compatible"},
        {"http://[64:ff9b:1::1]/", "local-use NAT64"},
        {"http://[100::1]/", "discard-only"},
        {"http://[2001::1]/", "Teredo"},
        {"http://[2001:db8::1]/", "documentation"},
        {"http://[3fff::1]/", "documentation"},
        {"http://[fc00::1]/", "unique local"},
        {"http://[fd12:3456::1]/", "unique local"},
        {"http://[fe80::1]/", "link-local"},
        {"http://[fec0::1]/", "site-local"},
        {"http://[ff02::1]/", "multicast"},
        {"http://[4000::1]/", "not global unicast"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(cases[i][0], NULL, cases[i][1]);
}

static void public_addresses_pass_and_are_returned_for_pinning(void)
{
    bl_ssrf_target t;
    bl_err err = {0};
    REQUIRE(bl_ssrf_check_url("https://93.184.216.34/hooks/in?x=1", NULL, &t, &err) == 0);
    CHECK_EQ_STR(t.scheme, "https");
    CHECK_EQ_STR(t.host, "93.184.216.34");
    CHECK_EQ_STR(t.address, "93.184.216.34");
    CHECK_EQ_INT(t.port, 443);
    CHECK_EQ_INT(t.family, AF_INET);
    CHECK(t.host_is_ip);
    REQUIRE(bl_ssrf_check_url("http://[2606:4700:4700::1111]:8080/", NULL, &t, &err) == 0);
    CHECK_EQ_STR(t.address, "2606:4700:4700::1111");
    CHECK_EQ_INT(t.port, 8080);
    CHECK_EQ_INT(t.family, AF_INET6);
    REQUIRE(bl_ssrf_check_url("http://[::ffff:8.8.8.8]/", NULL, &t, &err) == 0);
    REQUIRE(bl_ssrf_check_url("http://8.8.8.8/", NULL, &t, &err) == 0);
    CHECK_EQ_INT(t.port, 80);
    char entry[300];
    CHECK(bl_ssrf_resolve_entry(&t, entry, sizeof entry) == 0);
    CHECK_EQ_STR(entry, ""); /* an IP literal needs no pin */
    CHECK(bl_ssrf_address_refusal(AF_INET, (const uint8_t[]){100, 63, 255, 255}) == NULL);
    CHECK(bl_ssrf_address_refusal(AF_INET, (const uint8_t[]){100, 128, 0, 0}) == NULL);
    CHECK(bl_ssrf_address_refusal(AF_INET, (const uint8_t[]){172, 32, 0, 1}) == NULL);
}

static void allow_list_lets_listed_blocks_through(void)
{
    bl_ssrf_allowlist allow;
    bl_err err = {0};
    REQUIRE(bl_ssrf_allowlist_parse("127.0.0.0/8", &allow, &err) == 0);
    bl_ssrf_target t;
    REQUIRE(bl_ssrf_check_url("http://127.0.0.1:8099/hook", &allow, &t, &err) == 0);
    CHECK_EQ_STR(t.address, "127.0.0.1");
    CHECK(bl_ssrf_check_url("http://[::ffff:127.0.0.1]/", &allow, &t, &err) == 0);
    expect_refused("http://10.0.0.1/", &allow, "private");
    expect_refused("http://[::1]/", &allow, "loopback");
    /* localhost may also resolve to ::1, which is skipped: the pinned address is allowed. */
    REQUIRE(bl_ssrf_check_url("http://localhost:8099/", &allow, &t, &err) == 0);
    CHECK_EQ_STR(t.address, "127.0.0.1");
    CHECK(!t.host_is_ip);
    char entry[300];
    CHECK(bl_ssrf_resolve_entry(&t, entry, sizeof entry) == 0);
    CHECK_EQ_STR(entry, "localhost:8099:127.0.0.1");
    CHECK(bl_ssrf_resolve_entry(&t, entry, 10) == -1);
    expect_refused("http://localhost/", NULL, "localhost resolves to ");
    REQUIRE(bl_ssrf_allowlist_parse(" ::1 , 10.0.0.0/8,fd00::/8", &allow, &err) == 0);
    CHECK_EQ_INT(allow.count, 3);
    CHECK(bl_ssrf_check_url("http://[::1]/", &allow, &t, &err) == 0);
    CHECK(bl_ssrf_check_url("http://10.9.9.9/", &allow, &t, &err) == 0);
    expect_refused("http://127.0.0.1/", &allow, "loopback");
}

static void allow_list_entries_are_validated(void)
{
    bl_ssrf_allowlist allow;
    bl_err err = {0};
    CHECK(bl_ssrf_allowlist_parse("", &allow, &err) == 0);
    CHECK_EQ_INT(allow.count, 0);
    CHECK(bl_ssrf_allowlist_parse(NULL, &allow, &err) == 0);
    CHECK(bl_ssrf_allowlist_parse("127.0.0.0/33", &allow, &err) == -1);
    CHECK(strstr(err.msg, "\"127.0.0.0/33\": prefix length out of range") != NULL);
    CHECK(bl_ssrf_allowlist_parse("10.0.0.1/8", &allow, &err) == -1);
    CHECK(strstr(err.msg, "bits set beyond its prefix") != NULL);
    CHECK(bl_ssrf_allowlist_parse("127.0.0.0/8,localhost", &allow, &err) == -1);
    CHECK(strstr(err.msg, "\"localhost\": not an address") != NULL);
    CHECK(bl_ssrf_allowlist_parse("10.0.0.0/", &allow, &err) == -1);
    CHECK(bl_ssrf_allowlist_parse("10.0.0.0/-1", &allow, &err) == -1);
}

static void bad_schemes_userinfo_ports_and_hosts_are_refused(void)
{
    expect_refused("ftp://8.8.8.8/", NULL, "scheme must be http or https");
    expect_refused("file:///etc/passwd", NULL, "scheme must be http or https");
    expect_refused("gopher://8.8.8.8/", NULL, "scheme must be http or https");
    expect_refused("javascript:alert(1)", NULL, "url: ");
    expect_refused("8.8.8.8/hook", NULL, "url: ");
    expect_refused("http://user:pw@8.8.8.8/", NULL, "user or password");
    expect_refused("http://user@8.8.8.8/", NULL, "user or password");
    expect_refused("http://8.8.8.8:0/", NULL, "port must be 1..65535");
    expect_refused("http://8.8.8.8:65536/", NULL, "url: ");
    expect_refused("http://:8080/path", NULL, "url: No host");
    expect_refused("http://a b/", NULL, "url: ");
    expect_refused("http://[fe80::1%25eth0]/", NULL, "zone ids");
    expect_refused("", NULL, "url: empty");
    expect_refused(NULL, NULL, "url: empty");
    static char huge[BL_SSRF_URL_MAX + 100];
    memset(huge, 'a', sizeof huge - 1);
    memcpy(huge, "http://", 7);
    expect_refused(huge, NULL, "longer than");
    bl_ssrf_target t;
    bl_err err = {0};
    CHECK(bl_ssrf_check_url("HTTPS://8.8.8.8:65535/", NULL, &t, &err) == 0);
    CHECK_EQ_STR(t.scheme, "https");
    CHECK_EQ_INT(t.port, 65535);
}

int main(void)
{
    BL_RUN(every_non_public_ipv4_range_is_refused);
    BL_RUN(every_non_public_ipv6_range_is_refused);
    BL_RUN(public_addresses_pass_and_are_returned_for_pinning);
    BL_RUN(allow_list_lets_listed_blocks_through);
    BL_RUN(allow_list_entries_are_validated);
    BL_RUN(bad_schemes_userinfo_ports_and_hosts_are_refused);
    return bl_test_summary();
}
