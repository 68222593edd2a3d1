/* Produces one event the way a busline domain service does, for the
 * connector end-to-end tests: the catalog topic's schema registered under
 * "<topic>-value" in a test registry, the envelope (JSON) encoded as Avro in
 * the Confluent wire format, CloudEvents headers, keyed by the subject. */
#ifndef BUSLINE_TEST_AVRO_EVENT_H
#define BUSLINE_TEST_AVRO_EVENT_H

#include <jansson.h>

/* Sends envelope (borrowed: {"id","type","time","source","organization_id",
 * "subject","data":{...}}) to topic with the schema of catalog_topic
 * ("events.pmo.risk"); union_hint names the data record
 * ("busline.events.pmo.RiskEscalated"). Returns 0, or -1 after printing why. */
int bl_test_produce_avro_event(const char *registry_url, const char *catalog_topic, const char *topic,
                               const char *union_hint, const json_t *envelope);

#endif
