/* The Azure DevOps connector against a local fake of its REST 7.1 API. */
#include "connectors/azure_devops/azure_devops.h"
#include "connectors/vendor_http.h"
#include "tests/support/fake_saas.h"
#include "tests/support/saas_harness.h"
#include "tests/support/test.h"

#include <stdio.h>
#include <string.h>

static bl_fake_saas fake;
static bl_saas_harness h;

static int setup(void)
{
    char auth[256];
    if (bl_vendor_basic_auth("", "pat-123", auth, sizeof auth) != 0 ||
        bl_fake_saas_start(&fake, "azure_devops", auth + strlen("Authorization: ")) != 0)
        return -1;
    char settings[512];
    snprintf(settings, sizeof settings,
             "{\"base_url\":\"%s\",\"organization\":\"contoso\",\"project\":\"Ops Board\",\"tags\":\"pmo\"}",
             fake.base_url);
    return bl_saas_harness_open(&h, bl_azure_devops_connector(), settings, "{\"pat\":\"pat-123\"}");
}

static void teardown(void)
{
    bl_saas_harness_close(&h);
    bl_fake_saas_stop(&fake);
}

static const char *const approved[] = {"title", "Decision approved: move to cloud", "description", "<p>Why</p>",
                                       "assigned_to", "ana@contoso.example", "tags", "decision", NULL};

static void decision_approved_creates_a_task_as_json_patch(void)
{
    REQUIRE(setup() == 0);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "dec-1", "create_work_item", approved);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(fake.problem, "");
    CHECK_EQ_STR(fake.last_method, "POST");
    CHECK_EQ_STR(fake.last_path, "/contoso/Ops%20Board/_apis/wit/workitems/$Task");
    CHECK(strncmp(fake.last_content_type, "application/json-patch+json", 27) == 0);
    CHECK_EQ_INT(fake.creates, 1);
    CHECK_EQ_STR(r.external_id, "1000");
    json_t *item = json_object_get(json_object_get(fake.objects, "1000"), "fields");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "System.Title")), "Decision approved: move to cloud");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "System.AssignedTo")), "ana@contoso.example");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "System.WorkItemType")), "Task");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "System.Tags")), "pmo; decision; busline-dec-1");
    const json_t *op0 = json_array_get(fake.last_body, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(op0, "op")), "add");
    CHECK_EQ_STR(json_string_value(json_object_get(op0, "path")), "/fields/System.Title");
    teardown();
}

static void redelivery_and_a_lost_link_make_one_work_item(void)
{
    REQUIRE(setup() == 0);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "dec-1", "create_work_item", approved);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    r = bl_saas_harness_run(&h, "ev-1", "dec-1", "create_work_item", approved);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(r.external_id, "1000");
    /* A crash between the create and the link: the WIQL tag query finds it. */
    bl_saas_harness_close(&h);
    char settings[512];
    snprintf(settings, sizeof settings, "{\"base_url\":\"%s\",\"organization\":\"contoso\",\"project\":\"Ops Board\"}",
             fake.base_url);
    REQUIRE(bl_saas_harness_open(&h, bl_azure_devops_connector(), settings, "{\"pat\":\"pat-123\"}") == 0);
    r = bl_saas_harness_run(&h, "ev-1", "dec-1", "create_work_item", approved);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(r.external_id, "1000");
    CHECK_EQ_STR(fake.last_path, "/contoso/Ops%20Board/_apis/wit/wiql");
    CHECK_EQ_INT(fake.creates, 1);
    CHECK_EQ_STR(fake.problem, "");
    teardown();
}

static void update_patches_the_linked_work_item(void)
{
    REQUIRE(setup() == 0);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "dec-1", "create_work_item", approved);
    const char *const revised[] = {"title", "Decision revised", "state", "Active", NULL};
    r = bl_saas_harness_run(&h, "ev-2", "dec-1", "update_work_item", revised);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_OK);
    CHECK_EQ_STR(fake.last_method, "PATCH");
    CHECK_EQ_STR(fake.last_path, "/contoso/Ops%20Board/_apis/wit/workitems/1000");
    json_t *item = json_object_get(json_object_get(fake.objects, "1000"), "fields");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "System.Title")), "Decision revised");
    CHECK_EQ_STR(json_string_value(json_object_get(item, "System.State")), "Active");
    CHECK(strstr(json_string_value(json_object_get(item, "System.Tags")), "busline-dec-1") != NULL);
    CHECK_EQ_STR(fake.problem, "");
    teardown();
}

static void throttled_429_is_retryable_with_retry_after(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_fail_next(&fake, 429, "TF400733: The request has been throttled.", "7");
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "dec-1", "create_work_item", approved);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_RETRYABLE);
    CHECK_EQ_INT(r.retry_after_ms, 7000);
    CHECK(strstr(r.message, "TF400733") != NULL);
    CHECK_EQ_INT(fake.creates, 0);
    teardown();
}

static void rule_validation_400_is_permanent_with_the_vendor_message(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_fail_next(&fake, 400, "TF401320: Rule Error for field Assigned To.", NULL);
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "dec-1", "create_work_item", approved);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_PERMANENT);
    CHECK(strstr(r.message, "TF401320: Rule Error for field Assigned To.") != NULL);
    CHECK(strstr(r.message, "RuleValidationException") != NULL);
    teardown();
}

static void refused_pat_is_auth_expired_and_not_created(void)
{
    REQUIRE(setup() == 0);
    bl_fake_saas_accept(&fake, "Basic c29tZW9uZS1lbHNl");
    bl_connector_result r = bl_saas_harness_run(&h, "ev-1", "dec-1", "create_work_item", approved);
    CHECK_EQ_INT(r.status, BL_CONNECTOR_AUTH_EXPIRED);
    CHECK(strstr(r.message, "TF400813") != NULL);
    CHECK_EQ_INT(fake.creates, 0);
    teardown();
}

int main(void)
{
    BL_RUN(decision_approved_creates_a_task_as_json_patch);
    BL_RUN(redelivery_and_a_lost_link_make_one_work_item);
    BL_RUN(update_patches_the_linked_work_item);
    BL_RUN(throttled_429_is_retryable_with_retry_after);
    BL_RUN(rule_validation_400_is_permanent_with_the_vendor_message);
    BL_RUN(refused_pat_is_auth_expired_and_not_created);
    return bl_test_summary();
}
