/* Request bodies made from the API's served OpenAPI document, for tests that
 * walk every route (the permission matrix). */
#ifndef BUSLINE_TEST_OPENAPI_INSTANCE_H
#define BUSLINE_TEST_OPENAPI_INSTANCE_H

#include <jansson.h>

/* The smallest instance of a JSON schema of an Avro record: every required
 * field, null for a nullable one, the first enum symbol; "#/components/
 * schemas/" $refs resolved in components (borrowed). Returns a new reference
 * the caller decrefs; json null past a nesting of 8. */
json_t *bl_test_openapi_minimal_instance(const json_t *schema, const json_t *components);

#endif
