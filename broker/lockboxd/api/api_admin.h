/* Helpers shared by the admin handlers (api_directory.c, api_people.c). */
#ifndef LBX_API_ADMIN_H
#define LBX_API_ADMIN_H

#include "api.h"

struct admin_audit {
    const char *action;
    const char *tenant;
    json_t *detail;      /* stolen */
    const char *exists;  /* message for a unique violation */
    const char *missing; /* message when nothing was changed */
};

/* 1 when the caller is an admin; otherwise answers 403 (audited) and returns 0. */
int admin_only(struct api_req *ar);
/* A tenant's policy and customer roles are managed by the broker's admins and by that tenant's
 * global admins (global-admin on tenant:ID). tenant NULL (unknown) is for admins only. */
int caller_manages_tenant(const struct caller *c, const char *tenant);
/* 1 when the caller manages tenant; otherwise answers 403 (audited) and returns 0. */
int tenant_admin_only(struct api_req *ar, const char *tenant);
/* 1 when the caller is an admin or a global admin of some tenant (lists are then filtered with
 * rows_of_managed_tenants); otherwise answers 403 (audited) and returns 0. */
int tenant_admin_any(struct api_req *ar);
/* The tenant a "tenant:ID" or "subscription:ID" scope belongs to (LBX_ERR_NOT_FOUND for an
 * unknown one or any other scope). */
lbx_err scope_tenant(struct store *st, const char *scope, char *tenant, size_t size,
                     struct lbx_error *e);
/* rows (stolen) as the caller may see them: all for an admin, else those whose scope_key
 * member is a scope of a tenant the caller manages. NULL when out of memory. */
json_t *rows_of_managed_tenants(struct api_req *ar, json_t *rows, const char *scope_key);
int admin_list(struct api_req *ar, enum store_q q, const char *key);
/* admin_list through rows_of_managed_tenants. */
int managed_list(struct api_req *ar, enum store_q q, const char *key, const char *scope_key);
/* Runs q (must change one row) with its audit event in one transaction; answers 201 with
 * reply (stolen), or 204 when reply is NULL. */
int admin_change(struct api_req *ar, enum store_q q, const struct store_val *params,
                 const struct admin_audit *aa, json_t *reply);
json_t *admin_must_exist(struct api_req *ar, enum store_q q, const char *what, const char *id);
lbx_err admin_name(struct api_req *ar, const char *key, int required, const char **out,
                   struct lbx_error *e);

#endif
