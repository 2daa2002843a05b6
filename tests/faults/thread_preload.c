/* thread_preload - LD_PRELOAD helper of the supervisor e2e tests: starts,
 * before main, a thread that leaves every signal unblocked and sleeps, as
 * a preloaded library may (libfiu's remote control, profilers, agents).
 * The kernel then hands it any process-directed signal that the process's
 * own threads block, which is what tw_signal has to cope with. */
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static void *s_sleeper(void *arg)
{
    (void)arg;
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    for (;;)
        pause();
    return NULL;
}

__attribute__((constructor)) static void s_start(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, s_sleeper, NULL) == 0)
        pthread_detach(t);
}
