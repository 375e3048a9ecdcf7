/* The forms of the database setting (lockboxd.conf "database"): shared by the configuration
 * check and store_open, so that a location one accepts the other opens. */
#include "store.h"

#include <string.h>

enum store_backend store_backend(const char *location, const char **path)
{
    const char *unused;

    path = path != NULL ? path : &unused;
    *path = location;
    if (strncmp(location, "sqlite:", 7) == 0) {
        *path = location + 7;
        return STORE_BACKEND_SQLITE;
    }
    if (strncmp(location, "postgresql://", 13) == 0 || strncmp(location, "postgres://", 11) == 0)
        return STORE_BACKEND_PG;
    return strstr(location, "://") != NULL ? STORE_BACKEND_NONE : STORE_BACKEND_SQLITE;
}
