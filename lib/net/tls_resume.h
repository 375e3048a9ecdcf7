/* The TLS session a host keeps for its broker (resumption): one root-only file, so that the
 * module's calls, its reaper's and session close's resume one another's handshakes (each is a
 * new process) instead of repeating the certificate exchange. A saved session is offered only
 * to the peer it came from and only while the CA file, certificate and key it was made with are
 * the very same files (device, inode, size, modification and change times): a renewed
 * certificate or a replaced CA starts afresh. Anything unusable is ignored, never an error: the
 * cost of a bad file is one full handshake. */
#ifndef LBX_TLS_RESUME_H
#define LBX_TLS_RESUME_H

#include <openssl/ssl.h>
#include <stddef.h>

#define LBX_TLS_RESUME_TAG_MAX 512
#define LBX_TLS_RESUME_FILE_MAX (32 * 1024)

/* What a saved session is good for: "host port" and a fingerprint of each file (NULL ones
 * skipped). 0, or -1 when a file cannot be examined (then nothing is saved or offered). */
int lbx_tls_resume_tag(const char *host, const char *port, const char *const files[], int nfiles,
                       char *out, size_t len);

/* The session saved in path for tag, still within its lifetime and resumable; NULL otherwise
 * (none, not root-only, not ours, malformed, stale). The caller frees it (SSL_SESSION_free). */
SSL_SESSION *lbx_tls_resume_load(const char *path, const char *tag);

/* Replaces the file with sess (mode 0600, atomic). 0 or -1. */
int lbx_tls_resume_save(const char *path, const char *tag, SSL_SESSION *sess);

#endif
