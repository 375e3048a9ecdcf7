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
int admin_list(struct api_req *ar, enum store_q q, const char *key);
/* Runs q (must change one row) with its audit event in one transaction; answers 201 with
 * reply (stolen), or 204 when reply is NULL. */
int admin_change(struct api_req *ar, enum store_q q, const struct store_val *params,
                 const struct admin_audit *aa, json_t *reply);
json_t *admin_must_exist(struct api_req *ar, enum store_q q, const char *what, const char *id);
lbx_err admin_name(struct api_req *ar, const char *key, int required, const char **out,
                   struct lbx_error *e);

#endif
