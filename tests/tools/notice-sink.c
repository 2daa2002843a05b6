/* notice-sink - a stand-in notifier for the uploader tests: binds
 * ipc://$TUBEWATCH_RUNTIME_DIR/notifier.sock as a tw_deliver receiver and
 * appends "KIND<TAB>TEXT" of every notice to the file given as argument,
 * acking it once written. Runs until killed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#include "tw_deliver.h"
#include "tw_log.h"
#include "tw_time.h"

int main(int argc, char **argv)
{
    tw_log_init("notice-sink");
    const char *rt = getenv("TUBEWATCH_RUNTIME_DIR");
    if (argc != 2 || !rt) {
        fprintf(stderr, "usage: notice-sink OUTFILE (TUBEWATCH_RUNTIME_DIR "
                        "set)\n");
        return 100;
    }
    char ep[4200];
    snprintf(ep, sizeof ep, "ipc://%s/notifier.sock", rt);
    tw_deliver_t *rx = NULL;
    tw_err_t err = {0};
    if (tw_deliver_receiver_new(&rx, NULL, ep, "notifier", 0, &err) != TW_OK) {
        fprintf(stderr, "notice-sink: %s\n", err.msg);
        return 111;
    }
    for (;;) {
        zmq_pollitem_t it = {.socket = tw_deliver_socket(rx),
                             .events = ZMQ_POLLIN};
        zmq_poll(&it, 1, 200);
        tw_msg_t m;
        while (tw_deliver_recv(rx, &m, NULL) != TW_ERR_AGAIN) {
            if (m.id == TW_MSG_NOTICE) {
                FILE *f = fopen(argv[1], "a");
                if (f) {
                    fprintf(f, "%s\t%s\n", m.u.notice.kind, m.u.notice.text);
                    fclose(f);
                }
            }
            tw_deliver_ack(rx, m.src, m.epoch, m.seq, NULL);
            tw_proto_clear(&m);
        }
        tw_deliver_tick(rx, tw_time_mono_ms(), NULL);
    }
}
