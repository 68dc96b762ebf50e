# SPDX-License-Identifier: LGPL-2.1-or-later
# The known allocation of the reporting-accuracy benchmark: writes exactly MIB MiB, holds it briefly, exits.
import sys
import time

mib = int(sys.argv[1])
# bytes * n fills the whole object, so every page of it is really used, not merely reserved.
block = b"\x01" * (mib << 20) if mib > 0 else b""
time.sleep(0.5)
sys.exit(0 if len(block) == mib << 20 else 1)
