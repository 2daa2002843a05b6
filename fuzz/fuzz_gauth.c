/* Fuzz target of the Google credential files tw_gauth reads (Drive
 * uploads): the first byte picks client_secrets.json + token file, a
 * service-account key file, or a PEM key handed to the JWT signer; the rest
 * is the content. Nothing is fetched; any bytes must be accepted or refused
 * with a message, without a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tw_gauth.h"
#include "tw_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char s_path[128];

static void s_cleanup(void)
{
    unlink(s_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s_path[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
        snprintf(s_path, sizeof s_path, "%s/tw-fuzz-gauth-%d.json", base,
                 (int)getpid());
        atexit(s_cleanup);
        tw_log_set_level(TW_LOG_ERROR);
    }
    if (size == 0)
        return 0;
    int mode = data[0] % 3;
    data++;
    size--;
    tw_err_t err = {{0}, 0, 0};
    if (mode == 2) {
        char *pem = malloc(size + 1);
        if (!pem)
            return 0;
        memcpy(pem, data, size);
        pem[size] = '\0';
        char *jwt = NULL;
        if (tw_gauth_jwt("a@b.iam.gserviceaccount.com",
                         "https://www.googleapis.com/auth/drive.file",
                         "https://oauth2.googleapis.com/token", 1767225600, pem,
                         &jwt, &err) == TW_OK &&
            !jwt)
            abort();
        free(jwt);
        free(pem);
        return 0;
    }
    FILE *f = fopen(s_path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    chmod(s_path, 0600);
    tw_cfg_drive_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.enabled = true;
    cfg.oauth_base_url = "http://127.0.0.1:9";
    cfg.api_base_url = "http://127.0.0.1:9";
    if (mode == 0) {
        cfg.client_secrets_file = s_path;
        cfg.token_file = s_path;
    } else {
        cfg.service_account_file = s_path;
    }
    tw_gauth_t *g = NULL;
    tw_rc_t rc = tw_gauth_new(&g, &cfg, &err);
    if (rc != TW_OK && !err.msg[0])
        abort();
    tw_gauth_destroy(&g);
    tw_log_clear_secrets();
    return 0;
}
