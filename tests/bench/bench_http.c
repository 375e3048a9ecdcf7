/* HTTPS load generator for the broker benchmarks (2: token issue rate, 6: latency at scale).
 * C client threads, each with its own libcurl handle, send the same request back to back:
 * with keep-alive (one TLS connection per client, reused) or --fresh (a new handle, hence a new
 * TCP + TLS handshake, per request, as pam_lockbox does).
 *
 *   bench_http --url URL --ca FILE [--cert FILE --key FILE] [--bearer TOKEN] [-X METHOD]
 *              [-d BODY] [-c CLIENTS] (-t SECONDS | -n REQUESTS-PER-CLIENT) [--fresh]
 *              [--expect STATUS] [--expect-text TEXT] [--name NAME] [--samples FILE]
 *
 * Prints one JSON object: requests (answered with --expect and, when given, a body containing
 * --expect-text), errors (transport failures or any other answer), rps, p50_ms, p99_ms. Exit 1
 * when any request failed. */
#include <curl/curl.h>
#include <getopt.h>
#include <pthread.h>
#include <string.h>

#include "bench_stats.h"

#define MAX_CLIENTS 256
#define MAX_SAMPLES (1 << 20)

struct cfg {
    const char *url, *ca, *cert, *key, *method, *body, *name, *samples, *expect_text;
    char auth[512];
    int clients, fresh, per_client;
    long expect;
    double seconds;
};

struct client {
    const struct cfg *cfg;
    pthread_t thread;
    double *lat;
    size_t n, errors;
    double stop_at;
    char answer[4096]; /* the start of the last answer's body, NUL-terminated */
    size_t answer_len;
};

static size_t keep_start(char *p, size_t size, size_t n, void *ctx)
{
    struct client *cl = ctx;
    size_t room = sizeof(cl->answer) - 1 - cl->answer_len, len = size * n;

    memcpy(cl->answer + cl->answer_len, p, len < room ? len : room);
    cl->answer_len += len < room ? len : room;
    cl->answer[cl->answer_len] = '\0';
    return size * n;
}

static int answer_ok(const struct client *cl, long status)
{
    const struct cfg *c = cl->cfg;

    return status == c->expect && (c->expect_text == NULL || strstr(cl->answer, c->expect_text));
}

static CURL *make_handle(struct client *cl, struct curl_slist *hdr)
{
    const struct cfg *c = cl->cfg;
    CURL *h = curl_easy_init();

    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_start);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, cl);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    if (c->cert != NULL) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
    }
    if (c->body != NULL)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    return h;
}

static void *run_client(void *arg)
{
    struct client *cl = arg;
    const struct cfg *c = cl->cfg;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    CURL *h = NULL;
    long status;
    double t0;

    if (c->auth[0])
        hdr = curl_slist_append(hdr, c->auth);
    while (cl->n < MAX_SAMPLES / MAX_CLIENTS * 4 &&
           (c->per_client > 0 ? cl->n + cl->errors < (size_t)c->per_client
                              : bench_now_ms() < cl->stop_at)) {
        if (h == NULL)
            h = make_handle(cl, hdr);
        t0 = bench_now_ms();
        status = 0;
        cl->answer_len = 0;
        cl->answer[0] = '\0';
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (answer_ok(cl, status))
            cl->lat[cl->n++] = bench_now_ms() - t0;
        else
            cl->errors++;
        if (c->fresh || !answer_ok(cl, status)) {
            curl_easy_cleanup(h);
            h = NULL;
        }
    }
    if (h != NULL)
        curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    return NULL;
}

static int parse(int argc, char **argv, struct cfg *c)
{
    static const struct option lo[] = {
        {"url", 1, 0, 'u'},    {"ca", 1, 0, 'a'},     {"cert", 1, 0, 'C'},   {"key", 1, 0, 'K'},
        {"bearer", 1, 0, 'b'}, {"fresh", 0, 0, 'f'},  {"expect", 1, 0, 'e'}, {"name", 1, 0, 'N'},
        {"samples", 1, 0, 's'}, {"expect-text", 1, 0, 'T'}, {0, 0, 0, 0}};
    int o;

    *c = (struct cfg){.method = "POST", .name = "http", .clients = 1, .expect = 200};
    while ((o = getopt_long(argc, argv, "X:d:c:t:n:", lo, NULL)) != -1) {
        switch (o) {
        case 'u': c->url = optarg; break;
        case 'a': c->ca = optarg; break;
        case 'C': c->cert = optarg; break;
        case 'K': c->key = optarg; break;
        case 'b': snprintf(c->auth, sizeof(c->auth), "Authorization: Bearer %s", optarg); break;
        case 'f': c->fresh = 1; break;
        case 'e': c->expect = atol(optarg); break;
        case 'N': c->name = optarg; break;
        case 's': c->samples = optarg; break;
        case 'T': c->expect_text = optarg; break;
        case 'X': c->method = optarg; break;
        case 'd': c->body = optarg; break;
        case 'c': c->clients = atoi(optarg); break;
        case 't': c->seconds = atof(optarg); break;
        case 'n': c->per_client = atoi(optarg); break;
        default: return -1;
        }
    }
    return c->url && c->ca && c->clients > 0 && c->clients <= MAX_CLIENTS &&
                   (c->seconds > 0) != (c->per_client > 0)
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    static struct client cl[MAX_CLIENTS];
    struct cfg c;
    double *all, t0, elapsed;
    size_t n = 0, errors = 0, cap = MAX_SAMPLES / MAX_CLIENTS * 4;
    int i;

    if (parse(argc, argv, &c) != 0) {
        fprintf(stderr, "usage: bench_http --url URL --ca FILE [--cert F --key F] [--bearer T] "
                        "[-X M] [-d BODY] [-c N] (-t S | -n N) [--fresh] [--expect S] "
                        "[--expect-text T] [--name N] [--samples FILE]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    all = malloc(sizeof(double) * cap * (size_t)c.clients);
    t0 = bench_now_ms();
    for (i = 0; i < c.clients; i++) {
        cl[i] = (struct client){.cfg = &c, .lat = all + cap * (size_t)i,
                                .stop_at = t0 + c.seconds * 1e3};
        pthread_create(&cl[i].thread, NULL, run_client, &cl[i]);
    }
    for (i = 0; i < c.clients; i++) {
        pthread_join(cl[i].thread, NULL);
        memmove(all + n, cl[i].lat, cl[i].n * sizeof(double));
        n += cl[i].n;
        errors += cl[i].errors;
    }
    elapsed = (bench_now_ms() - t0) / 1e3;
    bench_dump_samples(c.samples, all, n);
    printf("{\"name\":\"%s\",\"clients\":%d,\"fresh\":%d,\"requests\":%zu,\"errors\":%zu,"
           "\"rps\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
           c.name, c.clients, c.fresh, n, errors, (double)n / elapsed,
           bench_percentile(all, n, 0.50), bench_percentile(all, n, 0.99));
    free(all);
    curl_global_cleanup();
    return errors == 0 ? 0 : 1;
}
