/* LD_PRELOAD shim for the host-gate tests: NSS as a directory service can behave, without
 * touching /etc/nsswitch.conf. Test harness only, never installed.
 *
 *   LBX_NSS_FAIL=NAME[,NAME...]  getgrnam(_r)/getpwnam(_r) for NAME (and getpwuid_r for a uid
 *                                written as a number) fail with LBX_NSS_ERRNO (default EIO),
 *                                as an LDAP or sssd lookup that times out does
 *   LBX_NSS_FOLD=1               getpwnam(_r)/getgrnam(_r) look names up in lower case, as
 *                                case-insensitive directories (sssd with AD) do
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*pwnam_fn)(const char *, struct passwd *, char *, size_t, struct passwd **);
typedef int (*pwuid_fn)(uid_t, struct passwd *, char *, size_t, struct passwd **);
typedef int (*grnam_fn)(const char *, struct group *, char *, size_t, struct group **);

static int listed(const char *name)
{
    const char *list = getenv("LBX_NSS_FAIL"), *p;
    size_t n = strlen(name);

    for (p = list; p != NULL && *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")] != '\0'))
        if (strcspn(p, ",") == n && strncmp(p, name, n) == 0)
            return 1;
    return 0;
}

static int failure(void)
{
    const char *v = getenv("LBX_NSS_ERRNO");

    return v != NULL ? atoi(v) : EIO;
}

static const char *folded(const char *name, char *buf, size_t len)
{
    size_t i;

    if (getenv("LBX_NSS_FOLD") == NULL || strlen(name) >= len)
        return name;
    for (i = 0; name[i] != '\0'; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    buf[i] = '\0';
    return buf;
}

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
    pwnam_fn real = (pwnam_fn)dlsym(RTLD_NEXT, "getpwnam_r");
    char low[256];

    *res = NULL;
    if (listed(name))
        return failure();
    return real(folded(name, low, sizeof(low)), pw, buf, len, res);
}

int getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
    pwuid_fn real = (pwuid_fn)dlsym(RTLD_NEXT, "getpwuid_r");
    char num[32];

    *res = NULL;
    snprintf(num, sizeof(num), "%lu", (unsigned long)uid);
    if (listed(num))
        return failure();
    return real(uid, pw, buf, len, res);
}

int getgrnam_r(const char *name, struct group *gr, char *buf, size_t len, struct group **res)
{
    grnam_fn real = (grnam_fn)dlsym(RTLD_NEXT, "getgrnam_r");
    char low[256];

    *res = NULL;
    if (listed(name))
        return failure();
    return real(folded(name, low, sizeof(low)), gr, buf, len, res);
}

/* sshd looks accounts up with the non-reentrant calls (glibc does not route them through the
 * interposed _r functions). */
struct passwd *getpwnam(const char *name)
{
    struct passwd *(*real)(const char *) =
        (struct passwd * (*)(const char *)) dlsym(RTLD_NEXT, "getpwnam");
    char low[256];

    if (listed(name)) {
        errno = failure();
        return NULL;
    }
    return real(folded(name, low, sizeof(low)));
}

struct group *getgrnam(const char *name)
{
    struct group *(*real)(const char *) =
        (struct group * (*)(const char *)) dlsym(RTLD_NEXT, "getgrnam");
    char low[256];

    if (listed(name)) {
        errno = failure();
        return NULL;
    }
    return real(folded(name, low, sizeof(low)));
}
