/*
 * cpu_has.h - for the kernel tests: whether /proc/cpuinfo lists CPU
 * features, read independently of the kernels' own detection. A path that
 * the CPU can run but the code refuses is a failure; a path the CPU lacks
 * is skipped by name, and the test exits SKIP_EXIT (tests/run.sh counts it
 * apart).
 */
#ifndef LLMOS_TEST_CPU_HAS_H
#define LLMOS_TEST_CPU_HAS_H

#include <stdio.h>
#include <string.h>

#define SKIP_EXIT 77

/* 1 when the flags line of /proc/cpuinfo has every space-separated word of
 * need (also when there is no /proc/cpuinfo to ask: refusing then fails). */
static inline int cpu_has(const char *need) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 1;
    char line[8192], flags[8192] = "";
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, "flags", 5) && strchr(line, ':')) {
            snprintf(flags, sizeof(flags), " %s", strchr(line, ':') + 1);
            break;
        }
    fclose(f);
    flags[strcspn(flags, "\n")] = ' ';
    char word[64];
    for (const char *p = need; sscanf(p, "%63s", word) == 1; p += strspn(p, " ") + strlen(word)) {
        char pat[70];
        snprintf(pat, sizeof(pat), " %s ", word);
        if (!strstr(flags, pat)) return 0;
    }
    return 1;
}

#endif
