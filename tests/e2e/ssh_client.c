/* The end-to-end tests' SSH client (libssh 0.10): logs in with publickey, password or
 * keyboard-interactive, prints what the server showed during authentication (the PAM banner
 * carries lockbox's reason), then runs a command, a shell or a subsystem, with or without a pty.
 *
 *   ssh_client -p PORT [-i KEY | -P PASSWORD | -k ANSWER] [-t] [-s SUBSYSTEM] USER [COMMAND]
 *
 * stderr gets "banner: ...", "info: ..." and "auth: ok|denied" lines; stdin goes to the
 * channel, the channel's output to stdout/stderr. Exit status: the remote command's, 3 when
 * authentication was refused, 255 on a connection error or when the server closed the channel
 * without an exit status. */
#include <errno.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct opts {
    int port, pty;
    const char *key, *password, *answer, *subsystem, *user, *command;
};

static int usage(void)
{
    fprintf(stderr, "usage: ssh_client -p PORT [-i KEY|-P PASSWORD|-k ANSWER] [-t] [-s SUBSYS] "
                    "USER [COMMAND]\n");
    return 2;
}

static void print_lines(const char *label, const char *text)
{
    const char *p = text, *nl;

    while (p != NULL && *p != '\0') {
        nl = strchr(p, '\n');
        fprintf(stderr, "%s: %.*s\n", label, (int)(nl ? nl - p : (long)strlen(p)), p);
        p = nl ? nl + 1 : NULL;
    }
}

static int auth_kbdint(ssh_session s, const char *answer)
{
    int rc, i, n;
    char echo;

    while ((rc = ssh_userauth_kbdint(s, NULL, NULL)) == SSH_AUTH_INFO) {
        print_lines("info", ssh_userauth_kbdint_getname(s));
        print_lines("info", ssh_userauth_kbdint_getinstruction(s));
        n = ssh_userauth_kbdint_getnprompts(s);
        for (i = 0; i < n; i++) {
            print_lines("prompt", ssh_userauth_kbdint_getprompt(s, (unsigned)i, &echo));
            ssh_userauth_kbdint_setanswer(s, (unsigned)i, answer);
        }
    }
    return rc;
}

static int authenticate(ssh_session s, const struct opts *o)
{
    ssh_key key = NULL;
    char *banner;
    int rc;

    ssh_userauth_none(s, NULL);
    if (o->key != NULL) {
        if (ssh_pki_import_privkey_file(o->key, NULL, NULL, NULL, &key) != SSH_OK)
            return SSH_AUTH_ERROR;
        rc = ssh_userauth_publickey(s, NULL, key);
        ssh_key_free(key);
    } else if (o->password != NULL) {
        rc = ssh_userauth_password(s, NULL, o->password);
    } else {
        rc = auth_kbdint(s, o->answer);
    }
    if ((banner = ssh_get_issue_banner(s)) != NULL) {
        print_lines("banner", banner);
        ssh_string_free_char(banner);
    }
    fprintf(stderr, "auth: %s\n", rc == SSH_AUTH_SUCCESS ? "ok" : "denied");
    return rc;
}

static int open_channel(ssh_session s, ssh_channel ch, const struct opts *o)
{
    if (ssh_channel_open_session(ch) != SSH_OK)
        return -1;
    if (o->pty && (ssh_channel_request_pty_size(ch, "xterm", 80, 24) != SSH_OK))
        return -1;
    if (o->subsystem != NULL)
        return ssh_channel_request_subsystem(ch, o->subsystem) == SSH_OK ? 0 : -1;
    if (o->command != NULL)
        return ssh_channel_request_exec(ch, o->command) == SSH_OK ? 0 : -1;
    return ssh_channel_request_shell(ch) == SSH_OK ? 0 : -1;
}

static int copy_out(ssh_channel ch, int is_stderr)
{
    char buf[16384];
    int n = ssh_channel_read_nonblocking(ch, buf, sizeof(buf), is_stderr);

    if (n == SSH_EOF)
        return 0;
    if (n > 0 && write(is_stderr ? 2 : 1, buf, (size_t)n) < 0)
        return -1;
    return n;
}

static int relay(ssh_channel ch)
{
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    int stdin_open = 1, busy;
    char buf[16384];
    ssize_t n;

    while (!ssh_channel_is_eof(ch) && ssh_channel_is_open(ch)) {
        busy = 0;
        if (stdin_open && poll(&p, 1, 10) > 0) {
            n = read(STDIN_FILENO, buf, sizeof(buf));
            if (n <= 0) {
                stdin_open = 0;
                ssh_channel_send_eof(ch);
            } else if (ssh_channel_write(ch, buf, (uint32_t)n) != n) {
                return -1;
            }
            busy = 1;
        }
        if (copy_out(ch, 0) < 0 || copy_out(ch, 1) < 0)
            return -1;
        if (!busy && !stdin_open)
            ssh_channel_poll_timeout(ch, 50, 0);
    }
    while (copy_out(ch, 0) > 0 || copy_out(ch, 1) > 0)
        ;
    return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
    int c;

    memset(o, 0, sizeof(*o));
    while ((c = getopt(argc, argv, "p:i:P:k:ts:")) != -1) {
        switch (c) {
        case 'p':
            o->port = atoi(optarg);
            break;
        case 'i':
            o->key = optarg;
            break;
        case 'P':
            o->password = optarg;
            break;
        case 'k':
            o->answer = optarg;
            break;
        case 't':
            o->pty = 1;
            break;
        case 's':
            o->subsystem = optarg;
            break;
        default:
            return -1;
        }
    }
    if (optind >= argc || o->port <= 0 || (!o->key && !o->password && !o->answer))
        return -1;
    o->user = argv[optind];
    o->command = optind + 1 < argc ? argv[optind + 1] : NULL;
    return 0;
}

int main(int argc, char **argv)
{
    ssh_session s = ssh_new();
    ssh_channel ch = NULL;
    long timeout = 10;
    int zero = 0, rc = 255, status;
    struct opts o;

    if (parse(argc, argv, &o) != 0)
        return usage();
    ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1");
    ssh_options_set(s, SSH_OPTIONS_PORT, &o.port);
    ssh_options_set(s, SSH_OPTIONS_USER, o.user);
    ssh_options_set(s, SSH_OPTIONS_STRICTHOSTKEYCHECK, &zero);
    ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, "/dev/null");
    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &zero);
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
    if (ssh_connect(s) != SSH_OK) {
        fprintf(stderr, "connect: %s\n", ssh_get_error(s));
        goto out;
    }
    if (authenticate(s, &o) != SSH_AUTH_SUCCESS) {
        rc = 3;
        goto out;
    }
    if ((ch = ssh_channel_new(s)) == NULL || open_channel(s, ch, &o) != 0) {
        fprintf(stderr, "channel: %s\n", ssh_get_error(s));
        goto out;
    }
    if (relay(ch) == 0) {
        status = ssh_channel_get_exit_status(ch);
        rc = status >= 0 ? status : 255;
        if (status < 0)
            fprintf(stderr, "connection: closed without exit status\n");
    }
out:
    if (ch != NULL) {
        ssh_channel_close(ch);
        ssh_channel_free(ch);
    }
    ssh_disconnect(s);
    ssh_free(s);
    return rc;
}
