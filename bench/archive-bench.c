/* archive-bench - throughput of the uploader: zip + manifest (sha256, line
 * counts) of a generated 64 MB chat day, md5 of the zip, and a resumable
 * upload of it to ytsim in 8 MiB chunks. Prints bench/run rows. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tw_archive.h"
#include "tw_drive.h"
#include "tw_file.h"
#include "tw_gauth.h"
#include "tw_time.h"

#define DAY "2026-01-01"

static double s_now(void)
{
    return (double)tw_time_mono_us() / 1e6;
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    chmod(path, 0600);
}

int main(void)
{
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    char dir[] = "/tmp/tw-archive-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 111;
    char path[512], data[256];
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(path, sizeof path, "%s/comments/" DAY "/UCa", data);
    tw_file_mkdirs(path, 0755, NULL);
    snprintf(path, sizeof path, "%s/comments/" DAY "/UCa/v.tsv", data);
    FILE *f = fopen(path, "w");
    if (!f)
        return 111;
    srand(7);
    size_t bytes = 0;
    for (int i = 0; bytes < 64u * 1024 * 1024; i++) {
        int n = fprintf(
            f,
            "2026-01-01T10:%02d:%02d.%06dZ\t2026-01-01T10:00:00.000000Z\t"
            "UCabcdefghijklmnopqrstuv\tvid%05d\tmsg%09d\ttext\tUCauthor%06d\t"
            "user %d\t\thello world this is message %d with words %x\t"
            "hello world message words\n",
            i % 60, i % 60, i % 1000000, i % 7, i, rand() % 100000,
            rand() % 1000, i, rand());
        bytes += (size_t)(n > 0 ? n : 0);
    }
    fclose(f);
    double t0 = s_now();
    tw_archive_entries_t e;
    char zip[4300];
    snprintf(zip, sizeof zip, "%s/" DAY ".zip", dir);
    if (tw_archive_collect(data, DAY, &e, NULL) != TW_OK)
        return 111;
    char *m = tw_archive_manifest_json(DAY, &e);
    if (tw_archive_zip_write(zip, DAY, &e, m, NULL, NULL, NULL) != TW_OK)
        return 111;
    double t1 = s_now();
    char md5[33];
    uint64_t zsize = 0;
    tw_drive_md5_file(zip, md5, &zsize, NULL);
    double t2 = s_now();
    free(m);
    tw_archive_entries_free(&e);
    printf("archive: zip+manifest of a %zu MB day|%.1f MB/s|>= 20 MB/s\n",
           bytes >> 20, (double)bytes / (t1 - t0) / 1e6);
    printf("archive: zip size / data size|%.1f %%|\n",
           100.0 * (double)zsize / (double)bytes);
    printf("archive: md5 of the zip|%.0f MB/s|\n",
           (double)zsize / (t2 - t1) / 1e6);

    /* upload to ytsim */
    char ytsim[4096], out[4300], portf[4400];
    snprintf(ytsim, sizeof ytsim, "%s/bin/ytsim", build);
    snprintf(out, sizeof out, "%s/ys", dir);
    snprintf(portf, sizeof portf, "%s/port", out);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(ytsim, ytsim, "--scenario", "builtin", "--speed", "0", "--listen",
              "127.0.0.1:0", "--out", out, (char *)NULL);
        _exit(127);
    }
    int port = 0;
    for (int i = 0; i < 500 && !port; i++) {
        FILE *pf = fopen(portf, "r");
        if (pf) {
            if (fscanf(pf, "%d", &port) != 1)
                port = 0;
            fclose(pf);
        }
        if (!port) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    int rc = 0;
    if (!port) {
        printf("drive: resumable upload to ytsim|(no ytsim)|\n");
    } else {
        char base[64], cs[4300], tok[4300];
        snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
        snprintf(cs, sizeof cs, "%s/cs.json", dir);
        snprintf(tok, sizeof tok, "%s/tok.json", dir);
        s_write(cs, "{\"installed\":{\"client_id\":\"ytsim-client.apps."
                    "googleusercontent.com\",\"client_secret\":\"ytsim-"
                    "client-secret\"}}");
        s_write(tok, "{\"refresh_token\":\"1//ytsim-refresh-token\"}");
        tw_cfg_drive_t d = {.enabled = true,
                            .client_secrets_file = cs,
                            .token_file = tok,
                            .service_account_file = "",
                            .folder_id = "",
                            .folder_name = "bench",
                            .oauth_base_url = base,
                            .api_base_url = base,
                            .chunk_size = 8u * 1024 * 1024};
        tw_gauth_t *g = NULL;
        tw_drive_t *dr = NULL;
        char folder[256], *session = NULL;
        tw_drive_file_t file;
        tw_err_t err = {0};
        double t3 = s_now();
        if (tw_gauth_new(&g, &d, &err) == TW_OK &&
            tw_drive_new(&dr, &d, g, &err) == TW_OK &&
            tw_drive_folder(dr, folder, sizeof folder, &err) == TW_OK &&
            tw_drive_start(dr, folder, DAY ".zip", "application/zip", zsize,
                           &session, &err) == TW_OK &&
            tw_drive_send(dr, session, zip, zsize, md5, &file, &err) == TW_OK) {
            double t4 = s_now();
            printf("drive: resumable upload to ytsim (8 MiB chunks)|%.0f "
                   "MB/s|>= 20 MB/s\n",
                   (double)zsize / (t4 - t3) / 1e6);
        } else {
            printf("drive: resumable upload to ytsim|failed: %s|\n", err.msg);
            rc = 1;
        }
        free(session);
        tw_drive_destroy(&dr);
        tw_gauth_destroy(&g);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
