# SPDX-License-Identifier: LGPL-2.1-or-later
# An analysis that wants 512 MiB: it writes the memory 1 MiB at a time, so every page is really used.
chunks = []
for _ in range(512):
    chunks.append(b"x" * (1 << 20))
