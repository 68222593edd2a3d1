/* The operations endpoints every long-running role serves for Kubernetes and
 * Prometheus: GET /healthz (the process is alive), GET /readyz (it can do its
 * work: asks the role), GET /metrics (the registry in Prometheus text). */
#ifndef BUSLINE_CORE_OPS_SERVER_H
#define BUSLINE_CORE_OPS_SERVER_H

#include "core/err.h"
#include "core/http_server.h"
#include "core/metrics.h"

/* Returns 1 when the role is ready; otherwise 0 and a short reason in
 * reason (reason_len bytes), e.g. "no partitions assigned". */
typedef int (*bl_ops_ready_fn)(void *ctx, char *reason, size_t reason_len);

typedef struct bl_ops_server bl_ops_server;

/* Starts the endpoints on host:port (host NULL = 0.0.0.0 so the kubelet can
 * reach it; port 0 = ephemeral). metrics and ready_fn are borrowed and may be
 * NULL (no metrics; always ready). Returns the server (stop and free with
 * bl_ops_server_free) or NULL with err. */
bl_ops_server *bl_ops_server_start(const char *host, unsigned short port, bl_metrics *metrics,
                                   bl_ops_ready_fn ready_fn, void *ready_ctx, bl_err *err);

/* The port it listens on. */
unsigned short bl_ops_server_port(const bl_ops_server *ops);

/* Stops serving and frees. ops may be NULL. */
void bl_ops_server_free(bl_ops_server *ops);

#endif
