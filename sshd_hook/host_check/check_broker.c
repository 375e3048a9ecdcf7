/* The broker as this host's module will meet it: the same host.conf fields, the same HTTP
 * client, a full TLS handshake with the host certificate (never a saved session, which would
 * skip the very files being checked); then the trusted keys against the key the broker signs
 * with. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker_host.h"
#include "buf.h"
#include "file.h"
#include "host_check.h"
#include "http_client.h"
#include "keys.h"

#define KEY_FILE_MAX 65536

/* The files enrolment wrote, before the broker is asked: "No such file" names the file here,
 * where a failed handshake would only say which side gave up. The host key is a secret. */
static int check_files(const struct lbx_host_config *cfg)
{
    const struct {
        const char *key, *path;
    } files[] = {
        {"ca_file", cfg->ca_file}, {"cert_file", cfg->cert_file}, {"key_file", cfg->key_file}};
    struct lbx_error e = {0};
    struct stat st;
    char *pem = NULL;
    size_t i, len = 0;
    int good = 1;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (stat(files[i].path, &st) != 0) {
            check_problem("%s %s: %s (not enrolled? lockboxctl host enroll writes it)",
                          files[i].key, files[i].path, strerror(errno));
            good = 0;
        }
    if (good &&
        lbx_file_read(cfg->key_file, LBX_FILE_SECRET, KEY_FILE_MAX, &pem, &len, &e) != LBX_OK) {
        check_problem("key_file %s", e.detail);
        good = 0;
    }
    lbx_freezero(pem, len);
    return good;
}

/* Why a call failed, in the administrator's terms. */
static const char *hint(lbx_err code)
{
    switch (code) {
    case LBX_ERR_BROKER_UNREACHABLE:
    case LBX_ERR_BROKER_TIMEOUT:
        return "is the broker running, and broker_url right?";
    case LBX_ERR_TLS:
        return "ca_file must be the CA of the broker's certificate, whose name must match "
               "broker_url";
    case LBX_ERR_AUTH:
        return "the broker does not accept this host's certificate: issued by its client_ca?";
    case LBX_ERR_CONFIG:
        return "broker_url must be https://HOST[:PORT]";
    case LBX_ERR_FORBIDDEN:
        return "lockboxctl host create on the broker, with the certificate's host id";
    default:
        return "an older broker, or not a lockbox broker at broker_url?";
    }
}

/* The anonymous health endpoint, with the CA alone: tells a broker that is down (or not the
 * one the CA vouches for) from one that is up and refuses this host's certificate. */
static int broker_up(const struct lbx_host_config *cfg)
{
    struct lbx_http_opts o = {.ca_file = cfg->ca_file, .timeout_ms = cfg->timeout * 1000};
    struct lbx_http_response resp = {0};
    char url[2048];
    int up;

    if ((size_t)snprintf(url, sizeof(url), "%s/v1/health", cfg->broker_url) >= sizeof(url))
        return 0;
    up = lbx_http_request(&o, "GET", url, NULL, &resp, NULL) == LBX_OK && resp.status == 200;
    lbx_http_response_free(&resp);
    return up;
}

/* 1 with *id filled when the broker accepted this host. */
static int check_broker(const struct lbx_host_config *cfg, struct lbx_broker_identity *id)
{
    struct lbx_error e = {0};
    char msg[300];

    if (lbx_broker_host_identity(cfg, cfg->timeout * 1000, id, &e) != LBX_OK) {
        lbx_error_text(&e, msg, sizeof(msg));
        /* A broker refusing a client certificate in TLS 1.3 only closes the connection. */
        if ((e.code == LBX_ERR_BROKER_UNREACHABLE || e.code == LBX_ERR_TLS) && broker_up(cfg))
            check_problem("broker %s is up (its health answers) but refused this host's "
                          "certificate: %s (cert_file and key_file must be a pair issued by the "
                          "broker's client_ca)",
                          cfg->broker_url, msg);
        else
            check_problem("broker %s: %s (%s)", cfg->broker_url, msg, hint(e.code));
        return 0;
    }
    check_ok("broker %s accepts this host's certificate as host %s", cfg->broker_url, id->host);
    if (strcmp(id->host, cfg->host_id) != 0)
        check_problem("host_id is %s but the certificate names %s: every grant token would be "
                      "refused (set host_id, or enroll again)",
                      cfg->host_id, id->host);
    if (strcmp(id->issuer, cfg->issuer) != 0)
        check_problem("the broker issues tokens as '%s', host.conf expects issuer '%s'", id->issuer,
                      cfg->issuer);
    return 1;
}

/* kid: the broker's signing key, or NULL when the broker could not say. */
static void check_keys(const struct lbx_host_config *cfg, const char *kid)
{
    struct lbx_keyring *ring = NULL;
    struct lbx_error e = {0};
    char msg[300];

    if (lbx_keyring_new(&ring) != LBX_OK) {
        check_problem("trusted keys: out of memory");
        return;
    }
    if (lbx_keyring_load_path(ring, cfg->trusted_keys, &e) != LBX_OK)
        check_problem("trusted_keys %s: %s: every grant token would be refused (lockboxctl host "
                      "enroll --broker-keys copies the broker's key)",
                      cfg->trusted_keys, lbx_error_text(&e, msg, sizeof(msg)));
    else if (kid != NULL && lbx_keyring_find(ring, kid) == NULL)
        check_problem("trusted_keys %s: the broker signs with key %s, not among its %zu key(s): "
                      "every grant token would be refused (copy the broker's signing.pub there)",
                      cfg->trusted_keys, kid, lbx_keyring_count(ring));
    else
        check_ok("trusted_keys %s: %zu key(s)%s%s%s", cfg->trusted_keys, lbx_keyring_count(ring),
                 kid ? ", the broker's signing key " : "", kid ? kid : "",
                 kid ? " among them" : "");
    lbx_keyring_free(ring);
}

void check_broker_and_keys(const struct lbx_host_config *cfg)
{
    struct lbx_broker_identity id;
    int reached = check_files(cfg) && check_broker(cfg, &id);

    check_keys(cfg, reached ? id.kid : NULL);
}
