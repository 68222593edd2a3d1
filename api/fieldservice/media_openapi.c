/* The OpenAPI operations of the media routes (route_medias.c), written as
 * the JSON they are; their errors are the surface's error object. */
#include "api/fieldservice/media_internal.h"

static const char media_schema[] =
    "{\"type\": \"object\", \"required\": [\"id\", \"intervention_id\", \"nom_fichier\", \"type_media\","
    " \"content_type\", \"taille\", \"sha256\", \"url\", \"date_creation\"], \"properties\": {"
    "\"id\": {\"type\": \"string\"}, \"intervention_id\": {\"type\": \"string\"},"
    "\"nom_fichier\": {\"type\": \"string\"}, \"description\": {\"type\": [\"string\", \"null\"]},"
    "\"tags\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
    "\"type_media\": {\"type\": \"string\", \"enum\": [\"image\", \"video\", \"audio\", \"document\"]},"
    "\"content_type\": {\"type\": \"string\", \"description\": \"judged from the bytes, not the name\"},"
    "\"taille\": {\"type\": \"integer\", \"description\": \"bytes\"},"
    "\"sha256\": {\"type\": \"string\", \"pattern\": \"^[0-9a-f]{64}$\"},"
    "\"url\": {\"type\": \"string\", \"description\": \"the download path\"},"
    "\"date_creation\": {\"type\": \"string\", \"format\": \"date-time\"}}}";

static const char list_op[] =
    "{\"operationId\": \"list_medias\", \"summary\": \"Liste des médias\", \"tags\": [\"medias\"],"
    " \"parameters\": ["
    "{\"name\": \"intervention_id\", \"in\": \"query\", \"schema\": {\"type\": \"string\"}},"
    "{\"name\": \"type_media\", \"in\": \"query\", \"schema\": {\"type\": \"string\","
    " \"enum\": [\"image\", \"video\", \"audio\", \"document\"]}},"
    "{\"name\": \"search\", \"in\": \"query\", \"description\": \"in the file name, the description or a tag\","
    " \"schema\": {\"type\": \"string\", \"maxLength\": 200}},"
    "{\"name\": \"page\", \"in\": \"query\", \"schema\": {\"type\": \"integer\", \"minimum\": 1, \"default\": 1}},"
    "{\"name\": \"size\", \"in\": \"query\", \"schema\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100,"
    " \"default\": 10}}],"
    " \"responses\": {\"200\": {\"description\": \"One page\", \"content\": {\"application/json\": {\"schema\":"
    " {\"type\": \"object\", \"required\": [\"medias\", \"total\", \"page\", \"size\", \"pages\"], \"properties\": {"
    "\"medias\": {\"type\": \"array\", \"items\": %s}, \"total\": {\"type\": \"integer\"},"
    " \"page\": {\"type\": \"integer\"}, \"size\": {\"type\": \"integer\"}, \"pages\": {\"type\": \"integer\"}}}}}},"
    " \"422\": {\"description\": \"invalid query parameters, each in field_errors\"}}}";

static const char upload_op[] =
    "{\"operationId\": \"upload_media\", \"summary\": \"Upload de média (streamed; 25 MiB by default)\","
    " \"tags\": [\"medias\"], \"requestBody\": {\"required\": true, \"content\": {\"multipart/form-data\":"
    " {\"schema\": {\"type\": \"object\", \"required\": [\"file\", \"intervention_id\"], \"properties\": {"
    "\"file\": {\"type\": \"string\", \"format\": \"binary\", \"description\": \"a photo, PDF, video or audio"
    " file, judged by its content\"},"
    "\"intervention_id\": {\"type\": \"string\"}, \"description\": {\"type\": \"string\", \"maxLength\": 4000},"
    "\"tags\": {\"type\": \"string\", \"description\": \"a JSON array of strings, e.g. [\\\"fuite\\\"]\"}}}}}},"
    " \"responses\": {\"201\": {\"description\": \"Stored\", \"content\": {\"application/json\": {\"schema\": %s}}},"
    " \"400\": {\"description\": \"not a well-formed multipart body\"},"
    " \"413\": {\"description\": \"larger than the upload limit (nothing stored)\"},"
    " \"415\": {\"description\": \"not multipart/form-data\"},"
    " \"422\": {\"description\": \"invalid fields, each in field_errors (a refused type is one)\"}}}";

static const char download_op[] =
    "{\"operationId\": \"download_media\", \"summary\": \"Télécharger un média\", \"tags\": [\"medias\"],"
    " \"responses\": {\"200\": {\"description\": \"The bytes, with the stored Content-Type and a"
    " Content-Disposition naming the file\", \"content\": {\"*/*\": {\"schema\": {\"type\": \"string\","
    " \"format\": \"binary\"}}}}, \"404\": {\"description\": \"no such media in the organization\"}}}";

static json_t *operation(const char *format)
{
    char text[4096];
    int n = snprintf(text, sizeof text, format, media_schema);
    return n > 0 && (size_t)n < sizeof text ? json_loads(text, 0, NULL) : NULL;
}

int bl_media_document(bl_api_server *s, bl_err *err)
{
    static const struct {
        const char *method, *pattern, *format;
    } ops[] = {{"GET", "/medias/", list_op}, {"POST", "/medias/upload", upload_op},
               {"GET", "/medias/:id/download", download_op}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        json_t *op = operation(ops[i].format);
        if (!op)
            return bl_err_set(err, BL_EINVAL, "media: the OpenAPI operation of %s %s is not JSON", ops[i].method,
                              ops[i].pattern);
        if (bl_api_server_surface_document(s, BL_API_SURFACE_FIELD_SERVICE, ops[i].method, ops[i].pattern, op,
                                           err) != 0)
            return -1;
    }
    return 0;
}
