/* forge_token: grant tokens the way an attacker (or a broken broker) would make them, for the
 * shell tests, through the one forger (tests/support/token_forge.c). lockboxctl refuses to
 * mint most of these, which is why this exists.
 *   forge_token es256 KEY.pem KID HEADER-EXTRA-JSON CLAIMS-JSON   ES256 by KEY (any claims)
 *   forge_token hs256 SECRET-FILE KID CLAIMS-JSON                 HMAC keyed with the file,
 *                                                                 e.g. the public PEM (libjwt)
 *   forge_token none KID CLAIMS-JSON                              alg none (libjwt)
 * Prints the token; exits 2 on a usage error (a broken helper aborts, never prints). */
#include <jansson.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "token_forge.h"

static int usage(void)
{
    fputs("usage: forge_token es256 KEY.pem KID HEADER-EXTRA-JSON CLAIMS-JSON\n"
          "       forge_token hs256 SECRET-FILE KID CLAIMS-JSON\n"
          "       forge_token none KID CLAIMS-JSON\n",
          stderr);
    return 2;
}

/* {"alg":"ES256","typ":"JWT","kid":KID} with extra's members added (or replacing). */
static char *es256_header(const char *kid, const char *extra_json)
{
    json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "typ", "JWT", "kid", kid);
    json_t *extra = json_loads(extra_json, 0, NULL);
    char *out;

    if (h == NULL || !json_is_object(extra) || json_object_update(h, extra) != 0) {
        fprintf(stderr, "forge_token: HEADER-EXTRA-JSON must be an object\n");
        exit(2);
    }
    out = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    json_decref(extra);
    return out;
}

static char *file_text(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 65536);
    size_t n;

    if (f == NULL || buf == NULL) {
        fprintf(stderr, "forge_token: cannot read %s\n", path);
        exit(2);
    }
    n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    struct lbx_error e = {0};
    struct lbx_key *key = NULL;
    char *tok, *header, *secret;

    if (argc == 6 && strcmp(argv[1], "es256") == 0) {
        if (lbx_key_load_private(argv[2], &key, &e) != LBX_OK) {
            fprintf(stderr, "forge_token: %s: %s\n", argv[2], e.detail);
            return 2;
        }
        header = es256_header(argv[3], argv[4]);
        tok = forge_token(key, header, argv[5]);
        free(header);
        lbx_key_free(key);
    } else if (argc == 5 && strcmp(argv[1], "hs256") == 0) {
        secret = file_text(argv[2]);
        tok = forge_libjwt(JWT_ALG_HS256, secret, argv[3], argv[4]);
        free(secret);
    } else if (argc == 4 && strcmp(argv[1], "none") == 0) {
        tok = forge_libjwt(JWT_ALG_NONE, NULL, argv[2], argv[3]);
    } else {
        return usage();
    }
    printf("%s\n", tok);
    free(tok);
    return 0;
}
