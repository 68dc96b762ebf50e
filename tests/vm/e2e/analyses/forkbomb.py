# SPDX-License-Identifier: LGPL-2.1-or-later
# A fork bomb: every process forks forever; a refused fork (EAGAIN at pids.max) is retried a little later.
import os
import time

while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.05)
