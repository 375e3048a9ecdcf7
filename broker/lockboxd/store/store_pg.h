#ifndef LBX_STORE_PG_H
#define LBX_STORE_PG_H

#include "store.h"

/* NULL-terminated; index i is schema version i + 1. */
extern const char *const store_pg_migrations[];

#endif
