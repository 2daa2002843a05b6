/* sup_reload - loading tubewatchd's config (the file plus the checks of the
 * "after" graph) and applying a changed one on SIGHUP or `tubewatch
 * reload`: only the workers whose section changed are touched. */
#ifndef SUP_RELOAD_H
#define SUP_RELOAD_H

#include "sup_child.h"
#include "sup_log.h"
#include "sup_table.h"
#include "tw_cfg.h"
#include "tw_rc.h"

/* Loads the config at path and checks what tw_cfg cannot: template names
 * fit, "after" names existing non-template workers, no cycle. Stores the
 * config in *cfg (caller frees) and returns TW_OK, or sets *cfg to NULL
 * with every problem in err ("FILE:LINE:COL: message; ...") and returns
 * TW_ERR_IO when a file could not be read for a reason that may pass
 * (EMFILE, EIO), TW_ERR_CONFIG otherwise. */
tw_rc_t sup_reload_load(tw_cfg_t **cfg, const char *path, tw_err_t *err);

/* Loads path again and applies it to the table: removed workers (and
 * instances of removed templates) are stopped and dropped, changed ones
 * restarted (stopped when disabled, started when they were not running),
 * new ones added and started; the old config is kept while removed
 * children still stop. The log rotation limits of logger follow the new
 * config; directory and metrics_listen changes wait for the next start
 * (a warning says so). On success err holds "N added, N removed, N
 * changed". TW_ERR_CONFIG (running config kept, error logged) or
 * TW_ERR_AGAIN (too many reloads in flight) with err set. */
tw_rc_t sup_reload_apply(sup_table_t *table, const sup_ops_t *ops,
                         sup_logger_t *logger, const char *path, tw_err_t *err);

#endif
