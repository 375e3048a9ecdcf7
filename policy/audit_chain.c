#include "audit_chain.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

lbx_err lbx_audit_hash(const char *body, size_t len, char out[LBX_AUDIT_HASH_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    int i;

    if (EVP_Digest(body, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof(md))
        return LBX_ERR_CRYPTO;
    /* Not snprintf per byte: verify hashes every event, and that was a third of its time. */
    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
    return LBX_OK;
}

void lbx_audit_verify_init(struct lbx_audit_verifier *v)
{
    v->next_seq = 1;
    v->count = 0;
    memcpy(v->prev, LBX_AUDIT_GENESIS, sizeof(v->prev));
}

static const char *event_label(const json_t *body, char *buf, size_t len)
{
    const char *id = NULL;

    if (body != NULL && lbx_json_get_string(body, "event_id", &id) == LBX_OK)
        snprintf(buf, len, " (%s)", id);
    else
        buf[0] = '\0';
    return buf;
}

static lbx_err check_links(struct lbx_audit_verifier *v, int64_t seq, const json_t *body,
                           const char *label, struct lbx_error *e)
{
    const char *prev = NULL;
    int64_t body_seq;

    if (lbx_json_get_int(body, "seq", &body_seq) != LBX_OK ||
        lbx_json_get_string(body, "prev_hash", &prev) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_CONFLICT, "event %lld%s: no seq or prev_hash in body",
                             (long long)seq, label);
    if (body_seq != seq)
        return lbx_error_set(e, LBX_ERR_CONFLICT,
                             "event %lld%s: body says seq %lld (moved or reordered)",
                             (long long)seq, label, (long long)body_seq);
    if (seq != v->next_seq)
        return lbx_error_set(e, LBX_ERR_CONFLICT,
                             "event %lld%s: expected seq %lld (event deleted or inserted)",
                             (long long)seq, label, (long long)v->next_seq);
    if (strcmp(prev, v->prev) != 0)
        return lbx_error_set(e, LBX_ERR_CONFLICT,
                             "event %lld%s: prev_hash does not match the event before it "
                             "(deleted, inserted or reordered)",
                             (long long)seq, label);
    return LBX_OK;
}

lbx_err lbx_audit_verify_next(struct lbx_audit_verifier *v, int64_t seq, const char *body,
                              const char *hash, struct lbx_error *e)
{
    char computed[LBX_AUDIT_HASH_HEX + 1], label[96];
    json_t *obj = NULL;
    lbx_err r;

    if (body == NULL || hash == NULL)
        return lbx_error_set(e, LBX_ERR_CONFLICT, "event %lld: missing body or hash",
                             (long long)seq);
    if (lbx_json_parse_object(body, strlen(body), LBX_AUDIT_BODY_MAX, LBX_JSON_MAX_DEPTH, &obj,
                              NULL) != LBX_OK)
        return lbx_error_set(e, LBX_ERR_CONFLICT, "event %lld: body is not a JSON object",
                             (long long)seq);
    event_label(obj, label, sizeof(label));
    if ((r = check_links(v, seq, obj, label, e)) != LBX_OK)
        goto out;
    if ((r = lbx_audit_hash(body, strlen(body), computed)) != LBX_OK)
        goto out;
    if (strcmp(computed, hash) != 0) {
        r = lbx_error_set(e, LBX_ERR_CONFLICT,
                          "event %lld%s: content does not match its hash "
                          "(edited)",
                          (long long)seq, label);
        goto out;
    }
    memcpy(v->prev, computed, sizeof(v->prev));
    v->next_seq++;
    v->count++;
out:
    json_decref(obj);
    return r;
}
