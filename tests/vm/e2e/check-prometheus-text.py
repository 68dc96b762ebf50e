#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks a file in Prometheus' text exposition format (0.0.4) as strictly as we can without promtool: every
line a HELP, a TYPE or a sample; each family's HELP and TYPE once, before its samples; names and labels by the
grammar, label values escaped; no series twice; counters named *_total; a histogram's buckets cumulative and
ending at +Inf equal to _count. Prints the problems and exits 1, or prints "ok N samples" and exits 0.

    check-prometheus-text.py FILE [--expect NAME...]   (--expect: families that must have samples)
"""

import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
VALUE = r'"(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s=%s(?:,%s=%s)*)?\})? (\S+)$" % (NAME, LABEL, VALUE, LABEL, VALUE))
LABEL_PAIR = re.compile(r"(%s)=(%s)" % (LABEL, VALUE))
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) in ("histogram", "summary"):
            return name[: -len(suffix)]
    return name


def number(text):
    if text in ("+Inf", "-Inf", "NaN"):
        return float(text.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.match(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$", text):
        raise ValueError(text)
    return float(text)


def check(text, expect):
    problems, types, helps, seen, samples = [], {}, set(), set(), {}
    if text and not text.endswith("\n"):
        problems.append("the last line has no newline")
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if len(parts) < 4 or not re.match("^%s$" % NAME, parts[2]):
                problems.append("%d: bad comment line: %s" % (n, line))
                continue
            if parts[1] == "HELP":
                if parts[2] in helps:
                    problems.append("%d: second HELP for %s" % (n, parts[2]))
                helps.add(parts[2])
            else:
                if parts[2] in types:
                    problems.append("%d: second TYPE for %s" % (n, parts[2]))
                if parts[3] not in TYPES:
                    problems.append("%d: unknown type %s" % (n, parts[3]))
                if parts[2] in samples:
                    problems.append("%d: TYPE of %s after its samples" % (n, parts[2]))
                types[parts[2]] = parts[3]
            continue
        if line.startswith("#") or not line:
            problems.append("%d: stray line: %r" % (n, line))
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append("%d: not a sample: %s" % (n, line))
            continue
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        try:
            v = number(value)
        except ValueError:
            problems.append("%d: bad value %r" % (n, value))
            continue
        pairs = tuple(LABEL_PAIR.findall(labels))
        if len({k for k, _ in pairs}) != len(pairs):
            problems.append("%d: a label twice: %s" % (n, line))
        if (name, pairs) in seen:
            problems.append("%d: series twice: %s" % (n, line))
        seen.add((name, pairs))
        family = family_of(name, types)
        if family not in types:
            problems.append("%d: %s has no TYPE before it" % (n, name))
        elif types[family] == "counter" and (not name.endswith("_total") or v < 0 or math.isnan(v)):
            problems.append("%d: counter %s not *_total or negative" % (n, name))
        samples.setdefault(family, []).append((name, dict(pairs), v))
    for family, kind in types.items():
        if kind != "histogram":
            continue
        groups = {}
        for name, labels, v in samples.get(family, []):
            key = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
            groups.setdefault(key, {"buckets": [], "count": None})
            if name.endswith("_bucket"):
                groups[key]["buckets"].append((number(labels["le"].strip('"')), v))
            elif name.endswith("_count"):
                groups[key]["count"] = v
        for key, g in groups.items():
            counts = [c for _, c in g["buckets"]]
            if not g["buckets"] or g["buckets"][-1][0] != math.inf:
                problems.append("%s%s: no +Inf bucket last" % (family, key))
            elif counts != sorted(counts) or [b for b, _ in g["buckets"]] != sorted(b for b, _ in g["buckets"]):
                problems.append("%s%s: buckets not cumulative" % (family, key))
            elif g["count"] != counts[-1]:
                problems.append("%s%s: _count %s is not the +Inf bucket %s" % (family, key, g["count"], counts[-1]))
    for family in expect:
        if not samples.get(family):
            problems.append("no samples of %s" % family)
    return problems, sum(len(s) for s in samples.values())


def main():
    args = sys.argv[1:]
    expect = args[args.index("--expect") + 1:] if "--expect" in args else []
    path = args[0]
    with open(path) as f:
        problems, n = check(f.read(), expect)
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print("ok %d samples" % n)


if __name__ == "__main__":
    main()
