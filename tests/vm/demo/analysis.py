# SPDX-License-Identifier: LGPL-2.1-or-later
# The demo's "scientific analysis": what it does depends on its analysis id (argv[1]).
#   small-sample  summarises 10 000 pseudo-random measurements and finishes in a moment
#   huge-matrix   builds a 400 MiB matrix, more memory than the demo allows it
#   endless-fit   refines a fit that never converges, longer than the demo allows it
import random
import statistics
import sys
import time

what = sys.argv[1]
random.seed(42)
if what == "small-sample":
    data = [random.gauss(10.0, 2.0) for _ in range(10_000)]
    print(f"mean {statistics.fmean(data):.3f}, stdev {statistics.stdev(data):.3f}")
elif what == "huge-matrix":
    rows = []
    for i in range(400):
        rows.append(bytearray(b"\1" * (1 << 20)))
        if i % 50 == 0:
            print(f"{i} MiB of the matrix built", flush=True)
    print("matrix complete")
elif what == "endless-fit":
    step = 0
    while True:
        step += 1
        if step % 1_000_000 == 0:
            print(f"step {step}: residual still {random.random():.4f}", flush=True)
else:
    sys.exit(f"unknown analysis '{what}'")
