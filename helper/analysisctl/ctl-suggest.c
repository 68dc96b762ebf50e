/* stub */
#include "ctl.h"
int verb_suggest(Ctl *c, char **args) { return 0; }
