/* stub */
#include "ctl.h"
int verb_metrics(Ctl *c, char **args) { return 0; }
