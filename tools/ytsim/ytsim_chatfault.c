/* ytsim_chatfault - chat-protocol faults of the web client: an answer
 * without continuationContents while the stream is still live ("nocont",
 * the suspected end that makes other tools stop hours early) and an answer
 * that only carries a reloadContinuationData ("reload"). */
#include <jansson.h>
#include <string.h>

#include "ytsim.h"

bool ytsim_chatfault_apply(ytsim_srv_t *srv, ytsim_req_t *rq, ytsim_resp_t *rs,
                           ytsim_fault_kind_t kind)
{
    if (strcmp(rq->ep, "get_live_chat") != 0) {
        return false;
    }
    json_t *j = ytsim_body_json(rq);
    json_t *t =
        j && json_is_object(j) ? json_object_get(j, "continuation") : NULL;
    const char *tok = t && json_is_string(t) ? json_string_value(t) : NULL;
    ytsim_tok_t tk;
    if (!tok || !ytsim_chat_token_parse(tok, &tk)) {
        return false;
    }
    ytsim_stream_t *s = ytsim_find_stream(srv, tk.vid);
    if (!s || ytsim_stream_state(s, ytsim_now(srv)) != YTSIM_ST_LIVE) {
        return false;
    }
    char mode = tk.mode;
    uint32_t pos = tk.pos != UINT32_MAX
                       ? tk.pos
                       : ytsim_chat_initial_pos(srv, s, ytsim_now(srv));
    ytsim_buf_t *b = ytsim_resp_json(rs, 200);
    YB(b, "{");
    ytsim_response_context(b, s->vh ^ pos ^ 0x5a);
    if (kind == YTSIM_F_RELOAD) {
        YB(b, ",\"continuationContents\":{\"liveChatContinuation\":{"
              "\"continuations\":[{\"reloadContinuationData\":{"
              "\"continuation\":\"");
        ytsim_chat_token(b, ytsim_scn(srv), s, mode, pos, tk.first);
        YB(b, "\",\"clickTrackingParams\":\"CAEQl98BIhMIsim\"}}]}}");
    }
    YB(b, ",\"trackingParams\":\"CAAQ0b4BIhMIsim\"}");
    return true;
}
