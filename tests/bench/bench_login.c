/* Benchmark 1's driver: complete SSH logins (libssh 0.10, publickey) that each run `true`,
 * timed from connect to the channel's exit status, N per client, C clients at once.
 *
 *   bench_login -p PORT -i KEY [-n N] [-c CLIENTS] [-s SAMPLES-FILE] [-t PHASES-FILE] [-P] USER
 *
 * -P: only the "none" authentication request, which sshd refuses and pads to USER's minimum
 * delay (USER need not exist; bench_login.sh reads the delay from sshd's DEBUG3 log).
 * Prints {"logins":..,"errors":..,"median_ms":..,"p99_ms":..}; every sample also goes to
 * SAMPLES-FILE (appended) so the caller can merge interleaved rounds. A login that is refused
 * or whose command does not exit 0 is an error, not a sample. Exit 1 when any login failed. */
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <pthread.h>
#include <string.h>

#include "bench_stats.h"

#define MAX_CLIENTS 64

struct job {
    int port, n, pad_only;
    const char *user;
    ssh_key key;
    pthread_t thread;
    double *lat;
    double *phases; /* PH_N per completed login */
    int done, errors;
};

/* Where one login's time went, as the client sees it (ms from the start of the login):
 * KEX = TCP + key exchange (sshd's re-exec and start), AUTH = publickey accepted (sshd's PAM
 * account phase), OPEN = session channel open (sshd's PAM session phase and the fork of the
 * user's side), EXEC = exit status received (ForceCommand hook and the command). */
enum { PH_KEX, PH_AUTH, PH_OPEN, PH_EXEC, PH_N };

/* Why a login failed, on stderr, so that a failed benchmark says more than "failed": the step,
 * libssh's error, or the command's exit status and the first line it wrote on stderr (where
 * lockbox-session says why it refused). */
static void say_failure(const struct job *j, const char *step, ssh_session s, int status,
                        const char *err)
{
    if (status >= 0)
        fprintf(stderr, "bench_login: %s: %s: exit status %d: %.*s\n", j->user, step, status,
                (int)strcspn(err, "\n"), err);
    else
        fprintf(stderr, "bench_login: %s: %s failed: %s\n", j->user, step, ssh_get_error(s));
}

static int run_true(const struct job *j, ssh_session s, double t0, double *ph)
{
    ssh_channel ch = ssh_channel_new(s);
    char buf[256], err[256] = "";
    int rc = -1, n, got = 0;

    if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK) {
        say_failure(j, "session channel", s, -1, NULL);
        goto out;
    }
    ph[PH_OPEN] = bench_now_ms() - t0;
    if (ssh_channel_request_exec(ch, "true") != SSH_OK) {
        say_failure(j, "exec", s, -1, NULL);
        goto out;
    }
    while (ssh_channel_read(ch, buf, sizeof(buf), 0) > 0)
        ;
    rc = ssh_channel_get_exit_status(ch);
    ph[PH_EXEC] = bench_now_ms() - t0;
    if (rc != 0) {
        while (got < (int)sizeof(err) - 1 &&
               (n = ssh_channel_read(ch, err + got, sizeof(err) - 1 - (size_t)got, 1)) > 0)
            got += n;
        err[got] = '\0';
        say_failure(j, "true", s, rc, err);
    }
    ssh_channel_send_eof(ch);
    ssh_channel_close(ch);
out:
    if (ch != NULL)
        ssh_channel_free(ch);
    return rc;
}

static int one_login(const struct job *j, double t0, double *ph)
{
    ssh_session s = ssh_new();
    int verbosity = SSH_LOG_NOLOG, rc = -1;
    long timeout = 30;

    ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1");
    ssh_options_set(s, SSH_OPTIONS_PORT, &j->port);
    ssh_options_set(s, SSH_OPTIONS_USER, j->user);
    ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity);
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &(int){0});
    if (ssh_connect(s) == SSH_OK) {
        ph[PH_KEX] = bench_now_ms() - t0;
        ssh_userauth_none(s, NULL);
        if (j->pad_only) {
            ph[PH_AUTH] = bench_now_ms() - t0;
            rc = 0;
        } else if (ssh_userauth_publickey(s, NULL, j->key) == SSH_AUTH_SUCCESS) {
            ph[PH_AUTH] = bench_now_ms() - t0;
            rc = run_true(j, s, t0, ph);
        } else {
            say_failure(j, "publickey authentication", s, -1, NULL);
        }
        ssh_disconnect(s);
    } else {
        say_failure(j, "connect", s, -1, NULL);
    }
    ssh_free(s);
    return rc;
}

static void *run_job(void *arg)
{
    struct job *j = arg;
    double t0;
    int i;

    for (i = 0; i < j->n; i++) {
        t0 = bench_now_ms();
        if (one_login(j, t0, j->phases + (size_t)j->done * PH_N) == 0) {
            double *ph = j->phases + (size_t)j->done * PH_N;
            j->lat[j->done++] = j->pad_only ? ph[PH_AUTH] - ph[PH_KEX] : bench_now_ms() - t0;
        } else
            j->errors++;
    }
    return NULL;
}

/* One line per login: the time of each phase in ms (kex auth open exec), appended to path. */
static void dump_phases(const char *path, const double *ph, size_t n)
{
    FILE *f;
    size_t i;

    if (path == NULL || (f = fopen(path, "a")) == NULL)
        return;
    for (i = 0; i < n; i++, ph += PH_N)
        fprintf(f, "%.3f %.3f %.3f %.3f\n", ph[PH_KEX], ph[PH_AUTH] - ph[PH_KEX],
                ph[PH_OPEN] - ph[PH_AUTH], ph[PH_EXEC] - ph[PH_OPEN]);
    fclose(f);
}

int main(int argc, char **argv)
{
    static struct job jobs[MAX_CLIENTS];
    const char *keyfile = NULL, *samples = NULL, *phase_file = NULL;
    int o, i, port = 0, n = 10, clients = 1, errors = 0, pad_only = 0;
    size_t total = 0;
    ssh_key key;
    double *all, *phases;

    while ((o = getopt(argc, argv, "p:i:n:c:s:t:P")) != -1) {
        switch (o) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'i':
            keyfile = optarg;
            break;
        case 'n':
            n = atoi(optarg);
            break;
        case 'c':
            clients = atoi(optarg);
            break;
        case 's':
            samples = optarg;
            break;
        case 't':
            phase_file = optarg;
            break;
        case 'P':
            pad_only = 1;
            break;
        default:
            return 2;
        }
    }
    if (optind + 1 != argc || port <= 0 || keyfile == NULL || n <= 0 || clients <= 0 ||
        clients > MAX_CLIENTS) {
        fprintf(stderr, "usage: bench_login -p PORT -i KEY [-n N] [-c CLIENTS] [-s FILE] [-t FILE] "
                        "[-P] USER\n");
        return 2;
    }
    ssh_init();
    if (ssh_pki_import_privkey_file(keyfile, NULL, NULL, NULL, &key) != SSH_OK) {
        fprintf(stderr, "bench_login: cannot read %s\n", keyfile);
        return 2;
    }
    all = calloc((size_t)n * (size_t)clients, sizeof(double));
    phases = calloc((size_t)n * (size_t)clients * PH_N, sizeof(double));
    if (all == NULL || phases == NULL)
        return 2;
    for (i = 0; i < clients; i++) {
        jobs[i] = (struct job){.port = port,
                               .n = n,
                               .pad_only = pad_only,
                               .user = argv[optind],
                               .key = key,
                               .lat = all + (size_t)n * (size_t)i,
                               .phases = phases + (size_t)n * (size_t)i * PH_N};
        pthread_create(&jobs[i].thread, NULL, run_job, &jobs[i]);
    }
    for (i = 0; i < clients; i++) {
        pthread_join(jobs[i].thread, NULL);
        dump_phases(phase_file, jobs[i].phases, (size_t)jobs[i].done);
        memmove(all + total, jobs[i].lat, (size_t)jobs[i].done * sizeof(double));
        total += (size_t)jobs[i].done;
        errors += jobs[i].errors;
    }
    bench_dump_samples(samples, all, total);
    printf("{\"logins\":%zu,\"errors\":%d,\"median_ms\":%.2f,\"p99_ms\":%.2f}\n", total, errors,
           bench_percentile(all, total, 0.5), bench_percentile(all, total, 0.99));
    free(all);
    free(phases);
    ssh_key_free(key);
    ssh_finalize();
    return errors == 0 ? 0 : 1;
}
