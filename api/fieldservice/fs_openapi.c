/* The OpenAPI operations of this folder's routes (auth, users, API keys,
 * webhooks, integrations of the SmartLeakPro document): their request
 * bodies with the document's field names and their answers, attached to
 * the routes already registered (installed after them, see routes.c). */
#include "api/routes/routes.h"

#include <jansson.h>
#include <stddef.h>

typedef struct fs_doc {
    const char *method, *pattern;
    const char *operation; /* JSON text */
} fs_doc;

#define STR "{\"type\":\"string\"}"
#define INT "{\"type\":\"integer\"}"
#define OBJ(props, required) "{\"type\":\"object\",\"properties\":{" props "},\"required\":[" required "]}"
#define BODY(schema) "\"requestBody\":{\"required\":true,\"content\":{\"application/json\":{\"schema\":" schema "}}}"
#define ANSWER(code, what) "\"responses\":{\"" code "\":{\"description\":\"" what "\"}}"
#define OP(id, tag, summary, rest) "{\"operationId\":\"" id "\",\"tags\":[\"" tag "\"],\"summary\":\"" summary "\"," rest "}"

#define TOKENS_ANSWER ANSWER("200", "{access_token, refresh_token, token_type: bearer, expires_in: 1800, utilisateur: {id, nom_utilisateur, email, role}}")
#define PAGE_ANSWER(key) ANSWER("200", "{" key ": [...], total, page, size, pages}")
#define PAGE_PARAMS                                                                                        \
    "\"parameters\":[{\"name\":\"page\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":1,"   \
    "\"default\":1}},{\"name\":\"size\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":1,"   \
    "\"maximum\":100,\"default\":10}}],"

static const fs_doc docs[] = {
    {"POST", "/auth/login",
     OP("login", "auth", "Log in with a user name (or email), a password and the TOTP code when the user has one",
        BODY(OBJ("\"nom_utilisateur\":" STR ",\"mot_de_passe\":" STR ",\"code_2fa\":" STR,
                 "\"nom_utilisateur\",\"mot_de_passe\"")) "," TOKENS_ANSWER)},
    {"POST", "/auth/refresh",
     OP("refresh", "auth", "Spend a refresh token for a new pair (the old one is revoked)",
        BODY(OBJ("\"refresh_token\":" STR, "\"refresh_token\"")) "," TOKENS_ANSWER)},
    {"POST", "/auth/logout",
     OP("logout", "auth",
        "Revoke the refresh token of the body, or every refresh token of the access token's user",
        ANSWER("204", "logged out"))},
    {"GET", "/utilisateurs/", OP("list_users", "utilisateurs", "The organization's users (admin only)",
                                 PAGE_PARAMS PAGE_ANSWER("utilisateurs"))},
    {"POST", "/utilisateurs/",
     OP("create_user", "utilisateurs", "Create a user (admin only); user.created goes to the bus",
        BODY(OBJ("\"nom_utilisateur\":" STR ",\"email\":" STR ",\"nom\":" STR ",\"prenom\":" STR
                 ",\"mot_de_passe\":" STR ",\"confirmer_mot_de_passe\":" STR
                 ",\"role\":{\"enum\":[\"admin\",\"manager\",\"dispatcher\",\"technicien\"]}"
                 ",\"consentement_rgpd\":{\"const\":true}",
                 "\"nom_utilisateur\",\"email\",\"nom\",\"prenom\",\"mot_de_passe\",\"confirmer_mot_de_passe\","
                 "\"consentement_rgpd\"")) "," ANSWER("201", "the user, without any password"))},
    {"GET", "/api-keys/", OP("list_api_keys", "api-keys", "The organization's API keys (admin only)",
                             PAGE_PARAMS PAGE_ANSWER("api_keys"))},
    {"POST", "/api-keys/",
     OP("create_api_key", "api-keys", "Create an API key (admin only); its token (cle_api) is shown once",
        BODY(OBJ("\"nom\":" STR ",\"description\":" STR
                 ",\"scopes\":{\"type\":\"array\",\"items\":{\"enum\":[\"read\",\"write\",\"admin\"]}}"
                 ",\"limite_requetes_par_minute\":" INT ",\"limite_requetes_par_jour\":" INT
                 ",\"limite_requetes_par_mois\":" INT,
                 "\"nom\"")) "," ANSWER("201", "the key with cle_api"))},
    {"GET", "/webhooks/", OP("list_webhooks", "webhooks", "The organization's webhooks",
                             PAGE_PARAMS PAGE_ANSWER("webhooks"))},
    {"POST", "/webhooks/",
     OP("create_webhook", "webhooks",
        "Create a webhook: deliveries carry {type, timestamp, data, resource_id} and X-Webhook-Signature",
        BODY(OBJ("\"nom\":" STR ",\"description\":" STR ",\"url\":" STR
                 ",\"type_webhook\":{\"enum\":[\"intervention_created\",\"intervention_updated\","
                 "\"intervention_status_changed\",\"rapport_generated\",\"media_uploaded\",\"user_created\","
                 "\"client_created\"]},\"secret\":" STR
                 ",\"conditions\":{\"type\":\"array\",\"items\":" OBJ("\"field\":" STR ",\"operator\":" STR
                                                                     ",\"value\":{}", "\"field\",\"operator\"") "}",
                 "\"nom\",\"url\",\"type_webhook\"")) "," ANSWER("201", "the webhook"))},
    {"POST", "/webhooks/:id/test",
     OP("test_webhook", "webhooks", "Send a signed test delivery now",
        ANSWER("200", "{event_id, type, succes, code_statut, duree_ms, reponse, erreur}"))},
    {"GET", "/integrations/", OP("list_integrations", "integrations", "The organization's integrations",
                                 PAGE_PARAMS PAGE_ANSWER("integrations"))},
    {"POST", "/integrations/",
     OP("create_integration", "integrations",
        "Create an integration: its webhook_url receives every field-service event of the organization",
        BODY(OBJ("\"nom\":" STR ",\"description\":" STR
                 ",\"type_integration\":{\"enum\":[\"zapier\",\"make\",\"n8n\"]},\"configuration\":" OBJ(
                     "\"webhook_url\":" STR ",\"api_key\":" STR, "\"webhook_url\""),
                 "\"nom\",\"type_integration\",\"configuration\"")) "," ANSWER("201", "the integration"))},
};

int bl_api_routes_fs_docs(bl_api_server *s, bl_err *err)
{
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        json_error_t jerr;
        json_t *op = json_loads(docs[i].operation, 0, &jerr);
        if (!op)
            return bl_err_set(err, BL_EINVAL, "api: OpenAPI of %s %s: %s", docs[i].method, docs[i].pattern, jerr.text);
        if (bl_api_server_surface_document(s, BL_API_SURFACE_FIELD_SERVICE, docs[i].method, docs[i].pattern, op,
                                           err) != 0)
            return -1;
    }
    return 0;
}
