/* tw_fault - named crash points through libfiu. */
#define FIU_ENABLE 1
#include "tw_fault.h"

#include <assert.h>
#include <fiu-local.h>
#include <signal.h>
#include <stdio.h>

void tw_fault_crash(const char *where, const char *when)
{
    assert(where);
    assert(when);
    char name[160];
    int n = snprintf(name, sizeof name, "tw/crash/%s/%s", where, when);
    if (n < 0 || (size_t)n >= sizeof name)
        return;
    fiu_do_on(name, raise(SIGKILL));
}
