#ifndef LBX_STORE_SQLITE_H
#define LBX_STORE_SQLITE_H

#include "store.h"

/* NULL-terminated; index i is schema version i + 1. */
extern const char *const store_sqlite_migrations[];

#endif
