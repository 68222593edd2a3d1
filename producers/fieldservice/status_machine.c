/* The intervention status machine: the table of legal moves, and the
 * reasons given for the others. To change the life cycle, change the table
 * (and the table in producers/fieldservice/README.md). */
#include "producers/fieldservice/status_machine.h"

#include <stdio.h>
#include <string.h>

#define S(x) BL_INTERVENTION_##x
#define MOVE(x) (1u << S(x))

/* next[from]: the set of statuses from may move to. COMPLETED and CANCELLED
 * are final: no move leaves them. */
static const unsigned next[BL_INTERVENTION_STATUS_COUNT] = {
    [S(SCHEDULED)] = MOVE(EN_ROUTE) | MOVE(IN_PROGRESS) | MOVE(CANCELLED),
    [S(EN_ROUTE)] = MOVE(IN_PROGRESS) | MOVE(ON_HOLD) | MOVE(CANCELLED),
    [S(IN_PROGRESS)] = MOVE(ON_HOLD) | MOVE(COMPLETED) | MOVE(CANCELLED),
    [S(ON_HOLD)] = MOVE(IN_PROGRESS) | MOVE(CANCELLED),
    [S(COMPLETED)] = 0,
    [S(CANCELLED)] = 0,
};

static const char *const names[BL_INTERVENTION_STATUS_COUNT] = {
    [S(SCHEDULED)] = "SCHEDULED", [S(EN_ROUTE)] = "EN_ROUTE",   [S(IN_PROGRESS)] = "IN_PROGRESS",
    [S(ON_HOLD)] = "ON_HOLD",     [S(COMPLETED)] = "COMPLETED", [S(CANCELLED)] = "CANCELLED",
};

static const struct {
    const char *french;
    bl_intervention_status status;
} french[] = {
    {"planifie", S(SCHEDULED)},
    {"en_cours", S(IN_PROGRESS)},
    {"termine", S(COMPLETED)},
    {"annule", S(CANCELLED)},
};

static bool in_range(bl_intervention_status s)
{
    return (unsigned)s < BL_INTERVENTION_STATUS_COUNT;
}

const char *bl_intervention_status_name(bl_intervention_status s)
{
    return in_range(s) ? names[s] : NULL;
}

int bl_intervention_status_parse(const char *name, bl_intervention_status *out)
{
    for (int i = 0; name && i < BL_INTERVENTION_STATUS_COUNT; i++) {
        if (strcmp(names[i], name) == 0) {
            *out = (bl_intervention_status)i;
            return 0;
        }
    }
    return -1;
}

int bl_intervention_status_from_french(const char *name, bl_intervention_status *out)
{
    for (size_t i = 0; name && i < sizeof french / sizeof french[0]; i++) {
        if (strcmp(french[i].french, name) == 0) {
            *out = french[i].status;
            return 0;
        }
    }
    return -1;
}

const char *bl_intervention_status_french(bl_intervention_status s)
{
    static const char *const words[BL_INTERVENTION_STATUS_COUNT] = {
        [S(SCHEDULED)] = "planifie", [S(EN_ROUTE)] = "en_route",   [S(IN_PROGRESS)] = "en_cours",
        [S(ON_HOLD)] = "en_attente", [S(COMPLETED)] = "termine",   [S(CANCELLED)] = "annule",
    };
    return in_range(s) ? words[s] : NULL;
}

bool bl_intervention_status_is_final(bl_intervention_status s)
{
    return in_range(s) && next[s] == 0;
}

bool bl_intervention_transition_allowed(bl_intervention_status from, bl_intervention_status to)
{
    return in_range(from) && in_range(to) && (next[from] & (1u << to)) != 0;
}

int bl_intervention_transition_check(bl_intervention_status from, bl_intervention_status to,
                                     char *reason, size_t reason_len)
{
    if (bl_intervention_transition_allowed(from, to))
        return 1;
    if (!reason || reason_len == 0)
        return 0;
    if (!in_range(from) || !in_range(to))
        snprintf(reason, reason_len, "unknown intervention status");
    else if (from == to)
        snprintf(reason, reason_len, "intervention is already %s", names[from]);
    else if (bl_intervention_status_is_final(from))
        snprintf(reason, reason_len, "intervention is %s, a final status: it cannot become %s",
                 names[from], names[to]);
    else
        snprintf(reason, reason_len, "intervention cannot go from %s to %s", names[from], names[to]);
    return 0;
}
