/* What the fieldservice apply files share. Private to the domain. */
#ifndef BUSLINE_PRODUCERS_FIELDSERVICE_INTERNAL_H
#define BUSLINE_PRODUCERS_FIELDSERVICE_INTERNAL_H

#include "producers/domain_service/fields.h"
#include "producers/fieldservice/domain.h"

/* The apply function of each aggregate; same contract as
 * bl_fieldservice_apply for the types of their entity (verb: "create"...). */
int fs_apply_client(PGconn *conn, const bl_domain_command *c, const char *verb,
                    bl_domain_events *out, bl_err *err);
int fs_apply_intervention(PGconn *conn, const bl_domain_command *c, const char *verb,
                          bl_domain_events *out, bl_err *err);
/* rapport.generate (report.c). */
int fs_apply_rapport(PGconn *conn, const bl_domain_command *c, const char *verb,
                     bl_domain_events *out, bl_err *err);

/* Reads the address record data.<field> into street, postal_code, city,
 * country (borrowed from c). Returns 1 when present, 0 when absent or null
 * and not required, or -1 with err (BL_EINVAL). */
int fs_get_address(const bl_domain_command *c, const char *field, bool required,
                   const char *out[4], bl_err *err);

/* The address of row 0 of res (columns street, postal_code, city, country)
 * as a new JSON record, or NULL when out of memory. */
json_t *fs_address_json(const PGresult *res);

#endif
