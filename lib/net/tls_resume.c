#include "tls_resume.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "buf.h"
#include "file.h"

#define RESUME_MAGIC "lockbox-tls-session 1 "

int lbx_tls_resume_tag(const char *host, const char *port, const char *const files[], int nfiles,
                       char *out, size_t len)
{
    size_t used;
    struct stat st;
    int i, n;

    n = snprintf(out, len, "%s %s", host, port);
    for (i = 0; i < nfiles && n >= 0 && (size_t)n < len; i++) {
        if (files[i] == NULL)
            continue;
        if (stat(files[i], &st) != 0)
            return -1;
        used = (size_t)n;
        n = snprintf(out + used, len - used, " %lx.%lx.%lx.%lx.%lx.%lx.%lx",
                     (unsigned long)st.st_dev, (unsigned long)st.st_ino, (unsigned long)st.st_size,
                     (unsigned long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec,
                     (unsigned long)st.st_ctim.tv_sec, (unsigned long)st.st_ctim.tv_nsec);
        n = n < 0 ? n : n + (int)used;
    }
    return n >= 0 && (size_t)n < len && strchr(out, '\n') == NULL ? 0 : -1;
}

/* The session after the header line, if the header is ours and names tag. */
static SSL_SESSION *decode(const char *text, size_t len, const char *tag)
{
    size_t magic = strlen(RESUME_MAGIC), taglen = strlen(tag);
    SSL_SESSION *sess = NULL;
    BIO *bio;

    if (len < magic + taglen + 1 || memcmp(text, RESUME_MAGIC, magic) != 0 ||
        memcmp(text + magic, tag, taglen) != 0 || text[magic + taglen] != '\n')
        return NULL;
    text += magic + taglen + 1;
    len -= magic + taglen + 1;
    if ((bio = BIO_new_mem_buf(text, (int)len)) != NULL)
        sess = PEM_read_bio_SSL_SESSION(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return sess;
}

static int usable(const SSL_SESSION *sess)
{
    long age = (long)time(NULL) - SSL_SESSION_get_time(sess);

    return SSL_SESSION_is_resumable(sess) &&
           SSL_SESSION_get_protocol_version(sess) >= TLS1_2_VERSION && age >= 0 &&
           age < SSL_SESSION_get_timeout(sess);
}

SSL_SESSION *lbx_tls_resume_load(const char *path, const char *tag)
{
    SSL_SESSION *sess;
    char *text = NULL;
    size_t len = 0;

    if (lbx_file_read(path, LBX_FILE_SECRET, LBX_TLS_RESUME_FILE_MAX, &text, &len, NULL) != LBX_OK)
        return NULL;
    sess = decode(text, len, tag);
    lbx_freezero(text, len);
    if (sess != NULL && !usable(sess)) {
        SSL_SESSION_free(sess);
        sess = NULL;
    }
    return sess;
}

int lbx_tls_resume_save(const char *path, const char *tag, SSL_SESSION *sess)
{
    BIO *bio = BIO_new(BIO_s_mem());
    struct lbx_buf out;
    char *pem = NULL;
    long pemlen = 0;
    int rc = -1;

    lbx_buf_init(&out, LBX_TLS_RESUME_FILE_MAX);
    if (bio != NULL && PEM_write_bio_SSL_SESSION(bio, sess) == 1 &&
        (pemlen = BIO_get_mem_data(bio, &pem)) > 0 &&
        lbx_buf_printf(&out, "%s%s\n", RESUME_MAGIC, tag) == LBX_OK &&
        lbx_buf_append(&out, pem, (size_t)pemlen) == LBX_OK &&
        lbx_file_write_volatile(path, out.data, out.len, 0600, (gid_t)-1, NULL) == LBX_OK)
        rc = 0;
    if (pem != NULL && pemlen > 0)
        OPENSSL_cleanse(pem, (size_t)pemlen); /* the session's secret */
    BIO_free(bio);
    lbx_buf_free(&out); /* wiped */
    ERR_clear_error();
    return rc;
}
