#include "core/kafka_config.h"

#include "core/log.h"

#include <stdlib.h>
#include <string.h>

int bl_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, bl_err *err)
{
    char errstr[200];
    if (!key || !value)
        return bl_err_set(err, BL_EINVAL, "kafka: config: setting '%s' has no value",
                          key ? key : "(null)");
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return bl_err_set(err, BL_EINVAL, "kafka: config: %s=%s: %s", key, value, errstr);
    return 0;
}

int bl_kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *kv, bl_err *err)
{
    for (size_t i = 0; kv && kv[i]; i += 2) {
        if (bl_kafka_conf_set(conf, kv[i], kv[i + 1], err) != 0)
            return -1;
    }
    return 0;
}

/* librdkafka uses syslog levels (0 emerg .. 7 debug). */
static bl_log_level level_from_syslog(int level)
{
    if (level <= 3)
        return BL_LOG_ERROR;
    if (level == 4)
        return BL_LOG_WARN;
    if (level <= 6)
        return BL_LOG_INFO;
    return BL_LOG_DEBUG;
}

/* Properties librdkafka warns about as "experimental" at every start that
 * busline sets on purpose, each documented where it is set (the relay's
 * enable.gapless.guarantee: producers/outbox/relay.c). Their warning would
 * read as trouble to an operator; it is logged at debug instead. */
static const char *const chosen_experimental[] = {"enable.gapless.guarantee", NULL};

static int is_chosen_experimental_warning(const char *fac, const char *buf)
{
    if (strcmp(fac, "CONFWARN") != 0 || !strstr(buf, "is experimental"))
        return 0;
    for (size_t i = 0; chosen_experimental[i]; i++)
        if (strstr(buf, chosen_experimental[i]))
            return 1;
    return 0;
}

/* Called from librdkafka's internal threads; bl_log_write is thread-safe. */
static void log_to_json(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    bl_log_level to = is_chosen_experimental_warning(fac, buf) ? BL_LOG_DEBUG : level_from_syslog(level);
    bl_log_write(to, buf,
                 (const bl_field[]){BL_FS("source", "librdkafka"), BL_FS("client", rd_kafka_name(rk)),
                                    BL_FS("facility", fac), BL_FI("syslog_level", level), {0}});
}

/* Most errors here are transient (broker down, retried internally); fatal ones
 * stop the handle, so they are logged as errors and callers see them through
 * bl_kafka_fatal and the _FATAL code of the next call. */
static void error_to_json(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    (void)opaque;
    int fatal = code == RD_KAFKA_RESP_ERR__FATAL;
    char fatal_reason[256];
    if (fatal) {
        rd_kafka_fatal_error(rk, fatal_reason, sizeof fatal_reason);
        reason = fatal_reason;
    }
    bl_log_write(fatal ? BL_LOG_ERROR : BL_LOG_WARN, "kafka error",
                 (const bl_field[]){BL_FS("source", "librdkafka"), BL_FS("client", rd_kafka_name(rk)),
                                    BL_FS("error", rd_kafka_err2name((rd_kafka_resp_err_t)code)),
                                    BL_FS("reason", reason), BL_FI("fatal", fatal), {0}});
}

rd_kafka_conf_t *bl_kafka_conf_new(const char *brokers, const char *const *defaults,
                                   const char *const *extra, void *opaque, bl_err *err)
{
    if (!brokers || !*brokers) {
        bl_err_set(err, BL_EINVAL, "kafka: config: no brokers given");
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        bl_err_set(err, BL_ENOMEM, "kafka: config: out of memory");
        return NULL;
    }
    /* Notices and up (syslog 5): librdkafka's info and debug lines are chatty. */
    if (bl_kafka_conf_set(conf, "bootstrap.servers", brokers, err) != 0 ||
        bl_kafka_conf_set(conf, "log_level", "5", err) != 0 ||
        bl_kafka_conf_set(conf, "log.connection.close", "false", err) != 0 ||
        bl_kafka_conf_apply(conf, defaults, err) != 0 || bl_kafka_conf_apply(conf, extra, err) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_to_json);
    rd_kafka_conf_set_error_cb(conf, error_to_json);
    rd_kafka_conf_set_opaque(conf, opaque);
    return conf;
}

rd_kafka_t *bl_kafka_handle_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *what,
                                bl_err *err)
{
    char errstr[256];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk) {
        /* rd_kafka_new only takes ownership of conf on success. */
        rd_kafka_conf_destroy(conf);
        bl_err_set(err, BL_EINVAL, "kafka: create %s: %s", what, errstr);
    }
    return rk;
}

int bl_kafka_fatal(rd_kafka_t *rk, bl_err *err)
{
    char reason[200];
    rd_kafka_resp_err_t code = rd_kafka_fatal_error(rk, reason, sizeof reason);
    if (code == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    bl_err_set(err, BL_EKAFKA, "kafka: fatal: %s: %s", rd_kafka_err2name(code), reason);
    return 1;
}

int bl_kafka_err(bl_err *err, rd_kafka_t *rk, rd_kafka_resp_err_t code, const char *what)
{
    char reason[200];
    if (code == RD_KAFKA_RESP_ERR__FATAL && rk) {
        rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk, reason, sizeof reason);
        if (cause != RD_KAFKA_RESP_ERR_NO_ERROR)
            return bl_err_set(err, BL_EKAFKA, "kafka: %s: fatal: %s: %s", what,
                              rd_kafka_err2name(cause), reason);
    }
    return bl_err_set(err, BL_EKAFKA, "kafka: %s: %s", what, rd_kafka_err2str(code));
}
