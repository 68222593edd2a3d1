/* busline: one binary, one subcommand per role. */
#include "api/cmd_api.h"
#include "cli/command.h"
#include "cli/commands.h"
#include "connectors/cmd_connect.h"
#include "connectors/webhook/cli/cmd_webhooks.h"
#include "connectors/workflows/cmd_workflows.h"
#include "producers/outbox/cmd_relay.h"

#include <stdio.h>
#include <string.h>

#define BUSLINE_VERSION "0.1.0"

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("busline %s\n", BUSLINE_VERSION);
    return 0;
}

static const bl_command commands[] = {
    {"api", "serve the HTTP API; create-org|create-admin-key|create-user for operators", bl_cmd_api},
    {"connect", "run a SaaS connector (a built-in one, or an external <name>.so) on the bus", bl_cmd_connect},
    {"dlq", "list|replay CONNECTOR: dead letters with their errors; replay them to their topic", bl_cmd_dlq},
    {"groups", "consumer groups: members, lag, oldest unprocessed age; 'groups reset' to replay", bl_cmd_groups},
    {"migrate", "apply the SQL migrations to PostgreSQL", bl_cmd_migrate},
    {"pmo", "the sample PMO domain service; 'pmo send FILE' puts a command on the bus", bl_cmd_pmo},
    {"attendance", "the Attendance-X domain service (events, attendance, reminders); 'attendance send FILE' puts a command on the bus", bl_cmd_attendance},
    {"fieldservice", "the field-service domain service (clients, interventions); 'fieldservice send FILE' puts a command on the bus", bl_cmd_fieldservice},
    {"prune", "delete log and bookkeeping rows past their keep period (run daily)", bl_cmd_prune},
    {"registry", "serve the schema registry (Confluent REST API over PostgreSQL)", bl_cmd_registry},
    {"relay", "publish the transactional outbox to Kafka", bl_cmd_relay},
    {"schemas", "register|check FILE|list: the catalog's schemas against the registry", bl_cmd_schemas},
    {"smoke", "produce and read back messages: a check of the Kafka cluster", bl_cmd_smoke},
    {"sync", "the calendar sync worker: executes queued and autoSync runs (Google Calendar)", bl_cmd_sync},
    {"topics", "ensure|list every topic the bus uses", bl_cmd_topics},
    {"version", "print the version", cmd_version},
    {"webhooks", "manage webhook endpoints; sign or verify a webhook body", bl_cmd_webhooks},
    {"workflows", "run workflow executions: event triggers, steps, durable timers (a consumer group)", bl_cmd_workflows},
};

static void print_usage(FILE *out)
{
    fprintf(out, "usage: busline <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'busline <command> --help' describes one command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    fprintf(stderr, "busline: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return 2;
}
