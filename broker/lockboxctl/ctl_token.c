/* lockboxctl key generate / token mint / token verify: offline key and token handling. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ctl.h"
#include "duration.h"
#include "keys.h"
#include "random.h"
#include "token.h"

#define TOKEN_STDIN_MAX (LBX_TOKEN_MAX_LEN * 4)

static int key_generate(int argc, char **argv)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'}, {NULL, 0, NULL, 0}};
    struct lbx_error e = {0};
    struct lbx_key *key = NULL;
    const char *out = NULL;
    char msg[300];
    int c;

    while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        if (c != 'o')
            return ctl_fail(CTL_EXIT_USAGE, "usage: lockboxctl key generate --out DIR");
        out = optarg;
    }
    if (out == NULL || optind != argc)
        return ctl_fail(CTL_EXIT_USAGE, "usage: lockboxctl key generate --out DIR");
    if (lbx_key_generate(&key) != LBX_OK)
        return ctl_fail(CTL_EXIT_FAIL, "key generation failed");
    if (lbx_key_write_pair(key, out, &e) != LBX_OK) {
        lbx_key_free(key);
        return ctl_fail(CTL_EXIT_FAIL, "%s", lbx_error_text(&e, msg, sizeof(msg)));
    }
    printf("%s\n", lbx_key_kid(key));
    lbx_key_free(key);
    return CTL_EXIT_OK;
}

int ctl_key_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "generate") == 0)
        return key_generate(argc - 1, argv + 1);
    return ctl_fail(CTL_EXIT_USAGE, "usage: lockboxctl key generate --out DIR");
}

static int parse_epoch(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (end == s || *end != '\0' || v <= 0)
        return -1;
    *out = v;
    return 0;
}

static const char mint_usage[] =
    "usage: lockboxctl token mint --key PRIV.pem --iss I --aud H "
    "--sub U --ttl 4h [--req ID] [--ticket T] [--jti ID] [--now EPOCH]";

static int token_mint(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},    {"iss", required_argument, NULL, 'i'},
        {"aud", required_argument, NULL, 'a'},    {"sub", required_argument, NULL, 's'},
        {"ttl", required_argument, NULL, 't'},    {"req", required_argument, NULL, 'r'},
        {"ticket", required_argument, NULL, 'T'}, {"jti", required_argument, NULL, 'j'},
        {"now", required_argument, NULL, 'n'},    {NULL, 0, NULL, 0}};
    struct lbx_claims claims = {0};
    struct lbx_error e = {0};
    struct lbx_key *key = NULL;
    const char *keypath = NULL;
    char *token = NULL, msg[300], *jti = NULL;
    int64_t ttl = -1, now = (int64_t)time(NULL);
    int c, rc = CTL_EXIT_FAIL;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            keypath = optarg;
            break;
        case 'i':
            claims.iss = optarg;
            break;
        case 'a':
            claims.aud = optarg;
            break;
        case 's':
            claims.sub = optarg;
            break;
        case 'r':
            claims.req = optarg;
            break;
        case 'T':
            claims.ticket = optarg;
            break;
        case 'j':
            claims.jti = optarg;
            break;
        case 't':
            if (lbx_duration_parse(optarg, &ttl) != LBX_OK || ttl <= 0)
                return ctl_fail(CTL_EXIT_USAGE, "bad --ttl '%s'", optarg);
            break;
        case 'n':
            if (parse_epoch(optarg, &now) != 0)
                return ctl_fail(CTL_EXIT_USAGE, "bad --now '%s'", optarg);
            break;
        default:
            return ctl_fail(CTL_EXIT_USAGE, "%s", mint_usage);
        }
    }
    if (!keypath || !claims.iss || !claims.aud || !claims.sub || ttl < 0 || optind != argc)
        return ctl_fail(CTL_EXIT_USAGE, "%s", mint_usage);
    if (ttl > LBX_GRANT_MAX_LIFETIME)
        return ctl_fail(CTL_EXIT_FAIL, "--ttl over the 8 h cap");
    if (claims.jti == NULL) {
        if (lbx_random_b64url(16, &jti) != LBX_OK)
            return ctl_fail(CTL_EXIT_FAIL, "no randomness");
        claims.jti = jti;
    }
    claims.iat = claims.nbf = now;
    claims.exp = now + ttl;
    if (lbx_key_load_private(keypath, &key, &e) != LBX_OK ||
        lbx_token_mint(key, &claims, &token, &e) != LBX_OK) {
        ctl_fail(CTL_EXIT_FAIL, "%s", lbx_error_text(&e, msg, sizeof(msg)));
        goto out;
    }
    printf("%s\n", token);
    rc = CTL_EXIT_OK;
out:
    lbx_free_secret(token);
    lbx_key_free(key);
    free(jti);
    return rc;
}

/* Reads a token from stdin: one line, trailing newline removed, bounded. */
static char *read_token_stdin(size_t *len)
{
    struct lbx_buf b;
    char chunk[1024];
    size_t n;

    lbx_buf_init(&b, TOKEN_STDIN_MAX);
    while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
        if (lbx_buf_append(&b, chunk, n) != LBX_OK) {
            lbx_buf_free(&b);
            return NULL;
        }
    /* One trailing line ending, Unix or DOS, is how a token arrives from a pipe or a file. */
    if (b.len > 0 && b.data[b.len - 1] == '\n')
        b.data[--b.len] = '\0';
    if (b.len > 0 && b.data[b.len - 1] == '\r')
        b.data[--b.len] = '\0';
    *len = b.len;
    return lbx_buf_steal(&b);
}

static const char verify_usage[] =
    "usage: lockboxctl token verify --key PUB.pem|--keys DIR --iss I "
    "--aud H --sub U [--now EPOCH] [--leeway S] TOKEN|-";

static int token_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'},    {"keys", required_argument, NULL, 'K'},
        {"iss", required_argument, NULL, 'i'},    {"aud", required_argument, NULL, 'a'},
        {"sub", required_argument, NULL, 's'},    {"now", required_argument, NULL, 'n'},
        {"leeway", required_argument, NULL, 'l'}, {NULL, 0, NULL, 0}};
    struct lbx_verify_opts vo = {.now = (int64_t)time(NULL), .leeway = -1};
    struct lbx_claims claims = {0};
    struct lbx_keyring *ring = NULL;
    struct lbx_error e = {0};
    const char *keypath = NULL;
    char *token = NULL, *json, msg[300];
    int64_t leeway;
    size_t len;
    int c, rc = CTL_EXIT_FAIL;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
        case 'K':
            keypath = optarg;
            break;
        case 'i':
            vo.iss = optarg;
            break;
        case 'a':
            vo.aud = optarg;
            break;
        case 's':
            vo.sub = optarg;
            break;
        case 'n':
            if (parse_epoch(optarg, &vo.now) != 0)
                return ctl_fail(CTL_EXIT_USAGE, "bad --now '%s'", optarg);
            break;
        case 'l':
            if (lbx_duration_parse(optarg, &leeway) != LBX_OK || leeway > LBX_LEEWAY_MAX)
                return ctl_fail(CTL_EXIT_USAGE, "bad --leeway '%s' (at most %ds)", optarg,
                                LBX_LEEWAY_MAX);
            vo.leeway = (int)leeway;
            break;
        default:
            return ctl_fail(CTL_EXIT_USAGE, "%s", verify_usage);
        }
    }
    if (!keypath || !vo.iss || !vo.aud || !vo.sub || optind != argc - 1)
        return ctl_fail(CTL_EXIT_USAGE, "%s", verify_usage);
    if (strcmp(argv[optind], "-") == 0) {
        if ((token = read_token_stdin(&len)) == NULL)
            return ctl_fail(CTL_EXIT_FAIL, "%s", lbx_strerror(LBX_ERR_TOKEN_TOO_LONG));
    } else {
        token = strdup(argv[optind]);
        len = token ? strlen(token) : 0;
    }
    if (token == NULL || lbx_keyring_new(&ring) != LBX_OK)
        goto out;
    if (lbx_keyring_load_path(ring, keypath, &e) != LBX_OK) {
        ctl_fail(CTL_EXIT_FAIL, "%s", lbx_error_text(&e, msg, sizeof(msg)));
        goto out;
    }
    vo.keys = ring;
    if (lbx_token_verify(token, len, &vo, &claims, &e) != LBX_OK) {
        /* The stable short reason first, so scripts can match on it; the detail after. */
        ctl_fail(CTL_EXIT_FAIL, "%s", lbx_error_text(&e, msg, sizeof(msg)));
        goto out;
    }
    if ((json = lbx_claims_to_json(&claims)) != NULL) {
        ctl_clean_text(json); /* a verified token's claims are still someone else's text */
        printf("%s\n", json);
        free(json);
        rc = CTL_EXIT_OK;
    }
out:
    lbx_claims_free(&claims);
    lbx_keyring_free(ring);
    lbx_free_secret(token);
    return rc;
}

int ctl_token_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "mint") == 0)
        return token_mint(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return token_verify(argc - 1, argv + 1);
    return ctl_fail(CTL_EXIT_USAGE, "usage: lockboxctl token mint|verify ...");
}
