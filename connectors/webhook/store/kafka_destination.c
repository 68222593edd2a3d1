/* A Kafka destination's settings (see kafka_destination.h). */
#include "connectors/webhook/store/kafka_destination.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const protocols[] = {"plaintext", "ssl", "sasl_plaintext", "sasl_ssl", NULL};
static const char *const mechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", NULL};

static bool one_of(const char *v, const char *const *list, bool nocase)
{
    for (size_t i = 0; v && list[i]; i++)
        if (nocase ? strcasecmp(v, list[i]) == 0 : strcmp(v, list[i]) == 0)
            return true;
    return false;
}

void bl_webhook_kafka_clear(bl_webhook_kafka *k)
{
    if (!k)
        return;
    free(k->brokers);
    free(k->topic);
    free(k->security_protocol);
    free(k->sasl_mechanism);
    free(k->sasl_username);
    free(k->ssl_ca_pem);
    memset(k, 0, sizeof *k);
}

static int dup_field(const char *in, char **out, int *oom)
{
    *out = NULL;
    if (in && !(*out = strdup(in)))
        *oom = 1;
    return 0;
}

int bl_webhook_kafka_copy(const bl_webhook_kafka *k, bl_webhook_kafka *out, bl_err *err)
{
    int oom = 0;
    memset(out, 0, sizeof *out);
    dup_field(k->brokers, &out->brokers, &oom);
    dup_field(k->topic, &out->topic, &oom);
    dup_field(k->security_protocol, &out->security_protocol, &oom);
    dup_field(k->sasl_mechanism, &out->sasl_mechanism, &oom);
    dup_field(k->sasl_username, &out->sasl_username, &oom);
    dup_field(k->ssl_ca_pem, &out->ssl_ca_pem, &oom);
    if (oom) {
        bl_webhook_kafka_clear(out);
        return bl_err_set(err, BL_ENOMEM, "kafka destination: out of memory");
    }
    return 0;
}

/* obj[key] as a string into *out (borrowed from obj; NULL when absent or null). */
static int string_field(const json_t *obj, const char *key, char **out, bl_err *err)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return bl_err_set(err, BL_EINVAL, "kafka.%s: must be a string", key);
    *out = (char *)json_string_value(v);
    return 0;
}

/* Appends s (without surrounding spaces) to the list text in buf. */
static int append_broker(char *buf, size_t cap, const char *s, size_t len, bl_err *err)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    size_t at = strlen(buf);
    if (at + (at ? 1 : 0) + len + 1 > cap)
        return bl_err_set(err, BL_EINVAL, "kafka.brokers: longer than %d bytes", BL_KDEST_BROKERS_TEXT_MAX);
    if (at)
        buf[at++] = ',';
    memcpy(buf + at, s, len);
    buf[at + len] = '\0';
    return 0;
}

/* brokers as text or array into buf (normalised). */
static int brokers_field(const json_t *obj, char *buf, size_t cap, bl_err *err)
{
    const json_t *v = json_object_get(obj, "brokers");
    buf[0] = '\0';
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s) {
            size_t len = strcspn(s, ",");
            if (append_broker(buf, cap, s, len, err) != 0)
                return -1;
            s += len;
            if (*s == ',')
                s++;
        }
        return 0;
    }
    if (!json_is_array(v))
        return bl_err_set(err, BL_EINVAL, "kafka.brokers: a \"host:port,...\" string or an array of them");
    size_t i;
    const json_t *b;
    json_array_foreach(v, i, b) {
        const char *t = json_string_value(b);
        if (!t || strchr(t, ','))
            return bl_err_set(err, BL_EINVAL, "kafka.brokers[%zu]: one \"host:port\" string per item", i);
        if (append_broker(buf, cap, t, strlen(t), err) != 0)
            return -1;
    }
    return 0;
}

int bl_webhook_kafka_read_json(const json_t *obj, bl_webhook_kafka *out, char *brokers_buf, size_t brokers_cap,
                               const char **password, bl_err *err)
{
    memset(out, 0, sizeof *out);
    if (password)
        *password = NULL;
    if (!json_is_object(obj))
        return bl_err_set(err, BL_EINVAL, "kafka: must be an object {brokers, topic, ...}");
    static const char *const known[] = {"brokers", "topic", "securityProtocol", "saslMechanism", "saslUsername",
                                        "saslPassword", "sslCaCertificate", "saslPasswordSet", NULL};
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (!one_of(key, known, false))
            return bl_err_set(err, BL_EINVAL, "kafka.%.64s: unknown field", key);
    }
    const json_t *pw = json_object_get(obj, "saslPassword");
    if (pw && !json_is_null(pw) && !json_is_string(pw))
        return bl_err_set(err, BL_EINVAL, "kafka.saslPassword: must be a string");
    if (brokers_field(obj, brokers_buf, brokers_cap, err) != 0 || string_field(obj, "topic", &out->topic, err) != 0 ||
        string_field(obj, "securityProtocol", &out->security_protocol, err) != 0 ||
        string_field(obj, "saslMechanism", &out->sasl_mechanism, err) != 0 ||
        string_field(obj, "saslUsername", &out->sasl_username, err) != 0 ||
        string_field(obj, "sslCaCertificate", &out->ssl_ca_pem, err) != 0) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->brokers = brokers_buf;
    if (!out->security_protocol)
        out->security_protocol = (char *)"plaintext";
    if (password && pw && json_is_string(pw))
        *password = json_string_value(pw);
    return 0;
}

bool bl_webhook_kafka_uses_sasl(const bl_webhook_kafka *k)
{
    return k->security_protocol && strncmp(k->security_protocol, "sasl_", 5) == 0;
}

/* Checks one "host:port" (index i) and its address through the guard. */
static int check_broker(const char *b, size_t len, size_t i, const bl_ssrf_allowlist *allow, bl_err *err)
{
    char text[BL_SSRF_HOST_MAX + 16];
    if (len == 0 || len >= sizeof text)
        return bl_err_set(err, BL_EINVAL, "kafka.brokers[%zu]: a \"host:port\" of 1..%zu characters", i,
                          sizeof text - 1);
    memcpy(text, b, len);
    text[len] = '\0';
    const char *colon = text[0] == '[' ? strstr(text, "]:") : strrchr(text, ':');
    if (colon && text[0] == '[')
        colon++;
    if (!colon || colon == text || (text[0] != '[' && strchr(text, ':') != colon))
        return bl_err_set(err, BL_EINVAL, "kafka.brokers[%zu]: \"%.64s\" is not host:port (IPv6 in brackets)", i,
                          text);
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 1 || port > 65535)
        return bl_err_set(err, BL_EINVAL, "kafka.brokers[%zu]: \"%.64s\" needs a port 1..65535", i, text);
    for (const char *p = text; p < colon; p++)
        if (!(isalnum((unsigned char)*p) || strchr(".-_[]:", *p)))
            return bl_err_set(err, BL_EINVAL, "kafka.brokers[%zu]: \"%.64s\" is not a host name", i, text);
    /* the same rules as an endpoint URL: resolved, no private address
     * unless allow-listed */
    char url[sizeof text + 16];
    snprintf(url, sizeof url, "http://%s/", text);
    bl_ssrf_target target;
    if (bl_ssrf_check_url(url, allow, &target, err) != 0) {
        err->code = BL_EINVAL;
        return bl_err_wrap(err, "kafka.brokers[%zu]", i);
    }
    return 0;
}

static int check_topic(const char *t, bl_err *err)
{
    size_t len = t ? strlen(t) : 0;
    if (len == 0 || len > BL_KDEST_TOPIC_MAX)
        return bl_err_set(err, BL_EINVAL, "kafka.topic: required, 1..%d characters", BL_KDEST_TOPIC_MAX);
    if (strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
        return bl_err_set(err, BL_EINVAL, "kafka.topic: \"%s\" is not a topic name", t);
    for (size_t i = 0; i < len; i++)
        if (!(isalnum((unsigned char)t[i]) || t[i] == '.' || t[i] == '_' || t[i] == '-'))
            return bl_err_set(err, BL_EINVAL, "kafka.topic: only letters, digits, '.', '_' and '-'");
    return 0;
}

int bl_webhook_kafka_check(const bl_webhook_kafka *k, bool has_password, const bl_ssrf_allowlist *allow,
                           bl_err *err)
{
    if (!k->brokers || !k->brokers[0])
        return bl_err_set(err, BL_EINVAL, "kafka.brokers: at least one \"host:port\"");
    if (strlen(k->brokers) > BL_KDEST_BROKERS_TEXT_MAX)
        return bl_err_set(err, BL_EINVAL, "kafka.brokers: longer than %d bytes", BL_KDEST_BROKERS_TEXT_MAX);
    if (check_topic(k->topic, err) != 0)
        return -1;
    if (!one_of(k->security_protocol, protocols, false))
        return bl_err_set(err, BL_EINVAL,
                          "kafka.securityProtocol: \"plaintext\", \"ssl\", \"sasl_plaintext\" or \"sasl_ssl\"");
    bool sasl = bl_webhook_kafka_uses_sasl(k);
    bool ssl = strstr(k->security_protocol, "ssl") != NULL;
    if (sasl) {
        if (!one_of(k->sasl_mechanism, mechanisms, false))
            return bl_err_set(err, BL_EINVAL,
                              "kafka.saslMechanism: \"PLAIN\", \"SCRAM-SHA-256\" or \"SCRAM-SHA-512\" with %s",
                              k->security_protocol);
        if (!k->sasl_username || !k->sasl_username[0] || strlen(k->sasl_username) > BL_KDEST_USERNAME_MAX)
            return bl_err_set(err, BL_EINVAL, "kafka.saslUsername: required with %s, 1..%d characters",
                              k->security_protocol, BL_KDEST_USERNAME_MAX);
        if (!has_password)
            return bl_err_set(err, BL_EINVAL, "kafka.saslPassword: required with %s", k->security_protocol);
    } else if (k->sasl_mechanism || k->sasl_username || has_password) {
        return bl_err_set(err, BL_EINVAL, "kafka.saslMechanism: SASL settings need a sasl_* securityProtocol");
    }
    if (k->ssl_ca_pem) {
        if (!ssl)
            return bl_err_set(err, BL_EINVAL, "kafka.sslCaCertificate: only with ssl or sasl_ssl");
        if (strlen(k->ssl_ca_pem) > BL_KDEST_CA_MAX || !strstr(k->ssl_ca_pem, "-----BEGIN CERTIFICATE-----"))
            return bl_err_set(err, BL_EINVAL, "kafka.sslCaCertificate: PEM certificates of at most %d bytes",
                              BL_KDEST_CA_MAX);
    }
    size_t i = 0;
    for (const char *s = k->brokers; *s; i++) {
        size_t len = strcspn(s, ",");
        if (i >= BL_KDEST_BROKERS_MAX)
            return bl_err_set(err, BL_EINVAL, "kafka.brokers: at most %d", BL_KDEST_BROKERS_MAX);
        if (check_broker(s, len, i, allow, err) != 0)
            return -1;
        s += len;
        if (*s == ',' && !*++s)
            return bl_err_set(err, BL_EINVAL, "kafka.brokers[%zu]: empty", i + 1);
    }
    return 0;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *bl_webhook_kafka_to_json(const bl_webhook_kafka *k, bool has_password)
{
    json_t *brokers = json_array();
    for (const char *s = k->brokers ? k->brokers : ""; brokers && *s;) {
        size_t len = strcspn(s, ",");
        json_array_append_new(brokers, json_stringn(s, len));
        s += len;
        if (*s == ',')
            s++;
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "brokers", brokers ? brokers : json_array(),
                     "topic", str_or_null(k->topic), "securityProtocol", str_or_null(k->security_protocol),
                     "saslMechanism", str_or_null(k->sasl_mechanism), "saslUsername",
                     str_or_null(k->sasl_username), "sslCaCertificate", str_or_null(k->ssl_ca_pem),
                     "saslPasswordSet", has_password);
}

char *bl_webhook_kafka_column_text(const bl_webhook_kafka *k)
{
    json_t *j = bl_webhook_kafka_to_json(k, false);
    if (!j)
        return NULL;
    json_object_del(j, "saslPasswordSet");
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}

int bl_webhook_kafka_from_column(const char *text, bl_webhook_kafka *out, bl_err *err)
{
    json_t *j = json_loads(text, 0, NULL);
    char brokers[BL_KDEST_BROKERS_TEXT_MAX + 1];
    bl_webhook_kafka view;
    int rc = bl_webhook_kafka_read_json(j, &view, brokers, sizeof brokers, NULL, err) == 0 &&
                     bl_webhook_kafka_copy(&view, out, err) == 0
                 ? 0
                 : -1;
    json_decref(j);
    return rc == 0 ? 0 : bl_err_wrap(err, "webhook store: kafka settings unreadable");
}

void bl_webhook_kafka_url(const bl_webhook_kafka *k, char *out, size_t out_len)
{
    snprintf(out, out_len, "kafka://%s/%s", k->brokers ? k->brokers : "", k->topic ? k->topic : "");
}

void bl_webhook_kafka_password_aad(const char *endpoint_id, char *out, size_t out_len)
{
    snprintf(out, out_len, "%s/kafka", endpoint_id);
}
