/* ytsim_google - Google OAuth and Drive (stub until implemented). */
#include "ytsim.h"

bool ytsim_google_handle(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs)
{
    (void)srv;
    (void)rq;
    (void)rs;
    return false;
}
