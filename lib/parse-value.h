/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict parsers for the value syntaxes profiles share with systemd: sizes, percentages, time spans, booleans. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USEC_PER_SEC UINT64_C(1000000)
#define USEC_INFINITY UINT64_MAX

/* Largest PID limit the kernel can enforce (PID_MAX_LIMIT on 64-bit). */
#define TASKS_MAX_LIMIT UINT64_C(4194304)

/* Parses a byte size in systemd's syntax: an integer or decimal number with an optional base-1024 suffix
 * K, M, G, T, P or E (optionally followed by B), e.g. "2G", "1.5G", "512M", "4096". Returns 0, -EINVAL for bad
 * syntax or a negative number, -ERANGE when the result does not fit in 64 bits. */
int parse_size(const char *s, uint64_t *ret);

/* Parses bytes per second in the syntax of systemd's IOReadBandwidthMax=: as parse_size(), but the suffixes
 * are powers of 1000 ("50M" is 50000000). Returns as parse_size(). */
int parse_bandwidth(const char *s, uint64_t *ret);

/* Parses "N%" with N an integer from 0 to max_percent. Returns 0, -EINVAL for bad syntax, -ERANGE when out of
 * range. */
int parse_percent(const char *s, unsigned max_percent, unsigned *ret);

/* The machine's physical memory in bytes, or UINT64_MAX if unknown. */
uint64_t physical_memory(void);

/* Parses a memory limit as a unit has it: bytes (parse_size()) or "N%" of physical memory, as systemd resolves
 * MemoryMax=N%. Returns 0, -EINVAL or -ERANGE. */
int parse_memory_limit(const char *s, uint64_t *ret);

/* Parses a time span in systemd's syntax ("30min", "1h 30min", "1.5s", "90" meaning seconds, "infinity")
 * into microseconds. Returns 0, -EINVAL for bad syntax, -ERANGE on overflow. */
int parse_timespan(const char *s, uint64_t *ret_usec);

/* Parses an unsigned decimal integer without sign, spaces or base prefix. Returns 0, -EINVAL, -ERANGE. */
int parse_uint64(const char *s, uint64_t *ret);

/* Parses a boolean as systemd does (yes/no, true/false, on/off, 1/0, y/n, t/f; any case). Returns 1, 0 or
 * -EINVAL. */
int parse_boolean(const char *s);

/* Room for any uint64_t in decimal, with the NUL. */
#define DECIMAL_UINT64_MAX 21

/* Writes v in decimal and a NUL at buf (at most DECIMAL_UINT64_MAX bytes). Returns where the NUL is, so a unit
 * can follow. */
char *format_uint64(uint64_t v, char *buf);

/* Room for format_seconds_buf()'s text, with the NUL: 20 digits, the point and 6 more. */
#define FORMAT_SECONDS_MAX 28

/* Formats usec as seconds for a *Sec= directive: "1800", "1.5", "0.000001", "infinity", into buf. Returns buf. */
const char *format_seconds_buf(uint64_t usec, char buf[static FORMAT_SECONDS_MAX]);

/* The same, into a new string in *ret. Returns 0 or -ENOMEM. */
int format_seconds(uint64_t usec, char **ret);

/* Formats bytes for people: "2.0 GiB", "512.0 MiB", "900 B". Writes into buf of size n and returns buf. */
const char *format_bytes(uint64_t bytes, char *buf, size_t n);

/* Formats bytes per second for people, in powers of 1000: "50.0 MB/s", "900 B/s". Writes into buf of size n
 * and returns buf. */
const char *format_bandwidth(uint64_t bytes_per_sec, char *buf, size_t n);

/* Formats a duration for people, to the second above 10 s: "41 s", "3 min 20 s", "2 h 5 min", "1.5 s",
 * "250 ms". Writes into buf of size n and returns buf. */
const char *format_duration(uint64_t usec, char *buf, size_t n);
