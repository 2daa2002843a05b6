/* tw_fault - named failure points (libfiu) at the durability points of the
 * stores: "tw/crash/WHERE/WHEN" kills the process there when enabled, so a
 * test can crash it between any two steps of a write (docs/reliability.md).
 * A point costs one lookup while nothing is enabled. */
#ifndef TW_FAULT_H
#define TW_FAULT_H

/* Kills this process with SIGKILL when the failure point
 * "tw/crash/<where>/<when>" is enabled (libfiu's FIU_ENABLE with its
 * fiu_run_preload library, fiu-run -c, or fiu-ctrl); returns at once
 * otherwise. when is "before_fsync", "after_fsync" or "after_rename". */
void tw_fault_crash(const char *where, const char *when);

#endif
