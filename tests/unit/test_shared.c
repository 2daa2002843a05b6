/* Locating the shared fixtures for the suites that use them. */
#include <stdlib.h>
#include <sys/stat.h>

const char *tw_test_shared_dir(void)
{
    const char *dir = getenv("TW_SHARED");
    if (!dir || !*dir)
        dir = "../shared";
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    return dir;
}
