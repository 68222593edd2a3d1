/* `busline <domain> [run] | send FILE`, the same for every domain service
 * (pmo, fieldservice, attendance): run the shared loop of producers/domain_service/ with
 * the domain's rules and /healthz /readyz, or put one plain-JSON command on
 * its topic. A domain's command file is its settings table and one call. */
#ifndef BUSLINE_CLI_DOMAIN_ROLE_H
#define BUSLINE_CLI_DOMAIN_ROLE_H

#include "core/config.h"
#include "producers/domain_service/command.h"

/* The settings of the role of domain dom (a string literal, e.g. "pmo";
 * DOM its upper-case form for the environment, what its commands for the
 * help), named "<dom>_commands_topic", "<dom>_dlq_topic",
 * "<dom>_events_prefix", "<dom>_group", "<dom>_session_timeout", "<dom>_actor",
 * "<dom>_send_timeout",
 * after "registry_url" and "schemas_dir"; _WITH adds the domain's own
 * settings (initializers) at the end. */
#define BL_DOMAIN_ROLE_SETTINGS(dom, DOM, what) BL_DOMAIN_ROLE_SETTINGS_WITH(dom, DOM, what, {0})
#define BL_DOMAIN_ROLE_SETTINGS_WITH(dom, DOM, what, ...)                                                \
    {                                                                                          \
        {.name = "registry_url", .env = "BUSLINE_REGISTRY_URL", .flag = "registry-url",        \
         .type = BL_SETTING_URL, .def = "http://127.0.0.1:8081",                               \
         .choices = (const char *const[]){"http", "https", NULL},                              \
         .help = "schema registry base URL"},                                                  \
        {.name = "schemas_dir", .env = "BUSLINE_SCHEMAS_DIR", .flag = "schemas-dir",           \
         .type = BL_SETTING_STRING,                                                            \
         .help = "folder of .avsc files (default: the source tree's schemas/)"},               \
        {.name = dom "_commands_topic", .env = "BUSLINE_" DOM "_COMMANDS_TOPIC",             \
         .flag = "commands-topic", .type = BL_SETTING_STRING, .def = "commands." dom,         \
         .help = "topic of " what " commands"},                                                \
        {.name = dom "_dlq_topic", .env = "BUSLINE_" DOM "_DLQ_TOPIC", .flag = "dlq-topic",  \
         .type = BL_SETTING_STRING, .help = "dead-letter topic (default: <commands topic>.dlq)"}, \
        {.name = dom "_events_prefix", .env = "BUSLINE_" DOM "_EVENTS_PREFIX",               \
         .flag = "events-topic-prefix", .type = BL_SETTING_STRING, .def = "",                  \
         .help = "prefix of the event topics (e.g. for tests)"},                               \
        {.name = dom "_group", .env = "BUSLINE_" DOM "_GROUP", .flag = "group",              \
         .type = BL_SETTING_STRING, .def = "busline-" dom,                                    \
         .help = "consumer group of the service"},                                             \
        {.name = dom "_session_timeout", .env = "BUSLINE_" DOM "_SESSION_TIMEOUT",           \
         .flag = "session-timeout", .type = BL_SETTING_DURATION, .def = "45s", .min = 6000,    \
         .max = 300000,                                                                        \
         .help = "consumer group session: how soon a dead service's partitions move on"},      \
        {.name = dom "_actor", .env = "BUSLINE_" DOM "_ACTOR", .flag = "actor",              \
         .type = BL_SETTING_STRING, .def = "busline-cli",                                      \
         .help = "send: actor of a command that names none"},                                  \
        {.name = dom "_send_timeout", .env = "BUSLINE_" DOM "_SEND_TIMEOUT",                 \
         .flag = "timeout", .type = BL_SETTING_DURATION, .def = "30s", .min = 100,             \
         .max = 600000, .help = "send: how long to wait for the broker's ack"},                \
        __VA_ARGS__, {0},                                                                      \
    }

/* Runs `busline <rules->domain>` with argv (argv[0] the subcommand's name)
 * and settings (a BL_DOMAIN_ROLE_SETTINGS table of the same name). Returns
 * the exit code: 0, 1 on failure, 2 on a usage error. */
int bl_domain_role_main(const bl_domain_rules *rules, const bl_setting *settings, int argc,
                        char **argv);

#endif
