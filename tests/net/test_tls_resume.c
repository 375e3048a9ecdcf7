/* The host's saved TLS session (lib/net/tls_resume.c): offered only when it is root-only, ours, for
 * this very peer and these very files, and still within its lifetime; anything else is ignored
 * (a full handshake), never trusted and never an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tls_resume.h"

struct fixture {
    char dir[64], path[128], ca[128];
    SSL_CTX *ctx;
};

/* A resumable TLS 1.3 session as a client would hold it: made from its parts, no handshake. */
static SSL_SESSION *make_session(struct fixture *f, long age, long lifetime)
{
    static const unsigned char id[32] = {1, 2, 3}, key[48] = {4, 5, 6};
    SSL *ssl = SSL_new(f->ctx);
    const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, (const unsigned char *)"\x13\x01");
    SSL_SESSION *s = SSL_SESSION_new();

    assert_non_null(cipher);
    assert_int_equal(SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION), 1);
    assert_int_equal(SSL_SESSION_set_cipher(s, cipher), 1);
    assert_int_equal(SSL_SESSION_set1_master_key(s, key, sizeof(key)), 1);
    assert_int_equal(SSL_SESSION_set1_id(s, id, sizeof(id)), 1);
    SSL_SESSION_set_time(s, (long)time(NULL) - age);
    SSL_SESSION_set_timeout(s, lifetime);
    SSL_free(ssl);
    return s;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    int fd;

    snprintf(f->dir, sizeof(f->dir), "/tmp/lbx-resume-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/broker.tls-session", f->dir);
    snprintf(f->ca, sizeof(f->ca), "%s/ca.pem", f->dir);
    if ((fd = open(f->ca, O_WRONLY | O_CREAT, 0644)) < 0 || write(fd, "ca\n", 3) != 3 ||
        close(fd) != 0)
        return -1;
    f->ctx = SSL_CTX_new(TLS_client_method());
    *state = f;
    return f->ctx ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    SSL_CTX_free(f->ctx);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void tag_of(struct fixture *f, const char *port, char *tag)
{
    const char *files[3] = {f->ca, NULL, NULL};

    assert_int_equal(lbx_tls_resume_tag("127.0.0.1", port, files, 3, tag, LBX_TLS_RESUME_TAG_MAX),
                     0);
}

static void save(struct fixture *f, const char *tag, long age, long lifetime)
{
    SSL_SESSION *s = make_session(f, age, lifetime);

    assert_int_equal(lbx_tls_resume_save(f->path, tag, s), 0);
    SSL_SESSION_free(s);
}

static int loads(struct fixture *f, const char *tag)
{
    SSL_SESSION *s = lbx_tls_resume_load(f->path, tag);

    SSL_SESSION_free(s);
    return s != NULL;
}

static void write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

static void test_round_trip(void **state)
{
    struct fixture *f = *state;
    char tag[LBX_TLS_RESUME_TAG_MAX];
    struct stat st;

    tag_of(f, "8443", tag);
    assert_int_equal(loads(f, tag), 0); /* nothing saved yet */
    save(f, tag, 0, 7200);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(loads(f, tag), 1);
}

static void test_other_peer_or_files(void **state)
{
    struct fixture *f = *state;
    char tag[LBX_TLS_RESUME_TAG_MAX], other[LBX_TLS_RESUME_TAG_MAX];
    struct timespec later[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};

    tag_of(f, "8443", tag);
    save(f, tag, 0, 7200);
    tag_of(f, "8444", other);
    assert_int_equal(loads(f, other), 0); /* another port */
    usleep(10000);
    assert_int_equal(utimensat(AT_FDCWD, f->ca, later, 0), 0);
    tag_of(f, "8443", other);
    assert_string_not_equal(tag, other); /* the CA file changed */
    assert_int_equal(loads(f, other), 0);
    assert_int_equal(loads(f, tag), 1);
}

static void test_tag_needs_every_file(void **state)
{
    struct fixture *f = *state;
    const char *files[2] = {f->ca, "/nonexistent/lockbox.key"};
    char tag[LBX_TLS_RESUME_TAG_MAX];

    assert_int_equal(lbx_tls_resume_tag("127.0.0.1", "8443", files, 2, tag, sizeof(tag)), -1);
    assert_int_equal(lbx_tls_resume_tag("127.0.0.1", "8443", files, 1, tag, 20), -1); /* no room */
    assert_int_equal(lbx_tls_resume_tag("127.0.0.1\nx", "8443", files, 1, tag, sizeof(tag)), -1);
}

static void test_lifetime(void **state)
{
    struct fixture *f = *state;
    char tag[LBX_TLS_RESUME_TAG_MAX];

    tag_of(f, "8443", tag);
    save(f, tag, 3600, 3600); /* its lifetime is over */
    assert_int_equal(loads(f, tag), 0);
    save(f, tag, 3599, 3600);
    assert_int_equal(loads(f, tag), 1);
    save(f, tag, -60, 3600); /* from the future: the clock went back, or it is not ours */
    assert_int_equal(loads(f, tag), 0);
}

static void test_not_root_only(void **state)
{
    struct fixture *f = *state;
    char tag[LBX_TLS_RESUME_TAG_MAX], link[160];
    struct stat st;

    tag_of(f, "8443", tag);
    save(f, tag, 0, 7200);
    assert_int_equal(chmod(f->path, 0640), 0);
    assert_int_equal(loads(f, tag), 0);
    assert_int_equal(chmod(f->path, 0600), 0);
    assert_int_equal(chown(f->path, 1, 1), 0); /* daemon's: not ours */
    assert_int_equal(loads(f, tag), 0);
    assert_int_equal(chown(f->path, 0, 0), 0);
    snprintf(link, sizeof(link), "%s/elsewhere", f->dir);
    assert_int_equal(rename(f->path, link), 0);
    assert_int_equal(symlink(link, f->path), 0);
    assert_int_equal(loads(f, tag), 0); /* a link is not followed */
    /* Saving replaces the link, never writes through it. */
    write_file(link, "x", 1);
    save(f, tag, 0, 7200);
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(stat(link, &st), 0);
    assert_int_equal(st.st_size, 1);
    assert_int_equal(loads(f, tag), 1);
}

static void test_malformed(void **state)
{
    struct fixture *f = *state;
    char tag[LBX_TLS_RESUME_TAG_MAX], text[40000];
    size_t n;
    FILE *in;

    tag_of(f, "8443", tag);
    save(f, tag, 0, 7200);
    assert_non_null(in = fopen(f->path, "r"));
    n = fread(text, 1, sizeof(text), in);
    fclose(in);
    write_file(f->path, text, n / 2); /* cut inside the PEM */
    assert_int_equal(loads(f, tag), 0);
    text[strlen("lockbox-tls-session ")] = '2'; /* a version we do not know */
    write_file(f->path, text, n);
    assert_int_equal(loads(f, tag), 0);
    write_file(f->path, "", 0);
    assert_int_equal(loads(f, tag), 0);
    memset(text, 'A', sizeof(text)); /* over the size limit */
    write_file(f->path, text, sizeof(text));
    assert_int_equal(loads(f, tag), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_peer_or_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tag_needs_every_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lifetime, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_root_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
