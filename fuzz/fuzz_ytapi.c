/* Fuzz target: every tw_ytapi parser on arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "tw_ytapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tw_ytapi_t *api;
    static tw_ytchat_t *chat;
    if (!api)
        api = tw_ytapi_new();
    if (!chat)
        chat = tw_ytchat_new();
    const char *s = (const char *)data;
    if (tw_ytapi_parse_videos(api, s, size, NULL) == TW_OK)
        for (size_t i = 0; i < tw_ytapi_video_count(api); i++)
            (void)strlen(tw_ytapi_video(api, i)->active_live_chat_id);
    if (tw_ytapi_parse_channels(api, s, size, NULL) == TW_OK)
        for (size_t i = 0; i < tw_ytapi_channel_count(api); i++)
            (void)strlen(tw_ytapi_channel(api, i)->uploads);
    if (tw_ytapi_parse_entries(api, s, size, NULL) == TW_OK)
        for (size_t i = 0; i < tw_ytapi_entry_count(api); i++)
            (void)strlen(tw_ytapi_entry(api, i)->video_id);
    tw_ytapi_parse_chat(api, chat, s, size, NULL);
    tw_ytapi_parse_error(api, s, size, NULL);
    (void)strlen(tw_ytapi_error(api)->message);
    return 0;
}
