/* The e2e runner links the same helpers as the unit runner: one source. */
#include "../unit/test_shared.c"
