/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Telling the service manager about this process (sd_notify(3)'s protocol), without linking libsystemd. */
#pragma once

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET. Returns 1 when sent, 0 when there is no $NOTIFY_SOCKET
 * (not a Type=notify service), or a negative errno. */
int service_notify(const char *state);
