#include "api/auth/auth.h"

#include <string.h>

bl_api_perm bl_api_perm_parse(const char *t)
{
    if (!t)
        return BL_API_PERM_NONE;
    if (strcmp(t, "read") == 0)
        return BL_API_PERM_READ;
    if (strcmp(t, "write") == 0)
        return BL_API_PERM_WRITE;
    if (strcmp(t, "admin") == 0)
        return BL_API_PERM_ADMIN;
    return BL_API_PERM_NONE;
}

const char *bl_api_perm_name(bl_api_perm p)
{
    static const char *const names[] = {"none", "read", "write", "admin"};
    return p <= BL_API_PERM_ADMIN ? names[p] : "none";
}

int bl_api_plan_parse(const char *t, bl_api_plan *out)
{
    static const char *const names[] = {"demo", "pro", "enterprise"};
    for (int i = 0; t && i < 3; i++)
        if (strcmp(t, names[i]) == 0) {
            *out = (bl_api_plan)i;
            return 0;
        }
    return -1;
}

const char *bl_api_plan_name(bl_api_plan p)
{
    static const char *const names[] = {"demo", "pro", "enterprise"};
    return p <= BL_API_PLAN_ENTERPRISE ? names[p] : "demo";
}
