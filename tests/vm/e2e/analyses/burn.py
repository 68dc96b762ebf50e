# SPDX-License-Identifier: LGPL-2.1-or-later
# An analysis that keeps two CPUs busy forever.
import os

os.fork()
while True:
    pass
