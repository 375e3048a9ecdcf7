/* Runs pam_lockbox.so through real libpam without touching /etc/pam.d: pam_start_confdir()
 * reads the service file from a test directory. Used by the PAM tests, and under valgrind and
 * ASan to hold the module to "no leaks, no errors" across repeated calls.
 *
 *   pam_driver CONFDIR SERVICE USER STEP...     STEP: account | open | close | sleep:MS
 *
 * Prints one line per step: "STEP: PAM_CODE_NAME MS" and every message the module sent:
 * "error: ..." (PAM_ERROR_MSG) or "info: ..." (PAM_TEXT_INFO). Exit 0 unless PAM itself fails.
 * Like sshd it has a SIGCHLD handler; a step that leaves it replaced prints "sigchld: lost". */
#include <security/pam_appl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    int i;

    for (i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_ERROR_MSG)
            printf("error: %s\n", msg[i]->msg);
        else if (msg[i]->msg_style == PAM_TEXT_INFO)
            printf("info: %s\n", msg[i]->msg);
        else
            return PAM_CONV_ERR; /* like sshd with publickey: prompts fail */
    }
    *resp = NULL;
    fflush(stdout);
    return PAM_SUCCESS;
}

static const char *code_name(int rc)
{
    switch (rc) {
    case PAM_SUCCESS:
        return "PAM_SUCCESS";
    case PAM_IGNORE:
        return "PAM_IGNORE";
    case PAM_PERM_DENIED:
        return "PAM_PERM_DENIED";
    case PAM_SESSION_ERR:
        return "PAM_SESSION_ERR";
    case PAM_USER_UNKNOWN:
        return "PAM_USER_UNKNOWN";
    case PAM_AUTH_ERR:
        return "PAM_AUTH_ERR";
    default:
        return "PAM_OTHER";
    }
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static void on_sigchld(int sig)
{
    (void)sig;
}

int main(int argc, char **argv)
{
    struct pam_conv c = {conv, NULL};
    pam_handle_t *pamh = NULL;
    struct timespec t0;
    int i, rc;

    struct sigaction own, now;

    if (argc < 5) {
        fprintf(stderr, "usage: pam_driver CONFDIR SERVICE USER STEP...\n");
        return 2;
    }
    memset(&own, 0, sizeof(own));
    own.sa_handler = on_sigchld;
    sigaction(SIGCHLD, &own, NULL);
    if ((rc = pam_start_confdir(argv[2], argv[3], &c, argv[1], &pamh)) != PAM_SUCCESS) {
        fprintf(stderr, "pam_start_confdir: %s\n", pam_strerror(NULL, rc));
        return 1;
    }
    for (i = 4; i < argc; i++) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (strcmp(argv[i], "account") == 0)
            rc = pam_acct_mgmt(pamh, 0);
        else if (strcmp(argv[i], "open") == 0)
            rc = pam_open_session(pamh, 0);
        else if (strcmp(argv[i], "close") == 0)
            rc = pam_close_session(pamh, 0);
        else if (strncmp(argv[i], "sleep:", 6) == 0) {
            usleep((useconds_t)atoi(argv[i] + 6) * 1000);
            continue;
        } else {
            fprintf(stderr, "unknown step %s\n", argv[i]);
            pam_end(pamh, PAM_SUCCESS);
            return 2;
        }
        printf("%s: %s %ld\n", argv[i], code_name(rc), ms_since(&t0));
        if (sigaction(SIGCHLD, NULL, &now) == 0 && now.sa_handler != on_sigchld)
            printf("sigchld: lost\n");
        fflush(stdout);
    }
    pam_end(pamh, rc);
    return 0;
}
