/* The console's pages on the broker's HTTPS listener (console_http.c): http/server.c hands it
 * every path outside /v1/ when the console is on. */
#ifndef LBX_CONSOLE_HTTP_H
#define LBX_CONSOLE_HTTP_H

struct broker;
struct evhttp_request;

void console_handle(struct broker *b, struct evhttp_request *req, const char *path);

#endif
