/* lockbox-host-check: what `lockbox-host-setup check` asks of the C side. Root only; changes
 * nothing but a cgroup of its own, made and removed again. Every finding is one line on
 * standard output, "ok: ..." or "problem: ...", for an administrator to read. */
#ifndef LBX_HOST_CHECK_H
#define LBX_HOST_CHECK_H

#include "host_config.h"

/* findings.c: one "ok: ..." or "problem: ..." line; how many problems were reported. */
void check_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void check_problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int check_problems(void);

/* check_broker.c: the broker reached with this host's certificate, and the trusted keys. */
void check_broker_and_keys(const struct lbx_host_config *cfg);

/* check_confinement.c: the cgroup kind a session gets here, tried for real. */
void check_confinement(const struct lbx_host_config *cfg);

#endif
