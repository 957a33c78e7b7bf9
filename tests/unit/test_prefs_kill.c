/*
 * test_prefs_kill.c - the judgement store under kill -9: two writer
 * processes at once append large judgements (512 KB each) under the lock and
 * are killed with SIGKILL at random moments, six rounds. Afterwards every
 * line the reader accepts is a complete judgement exactly as a writer built
 * it, any torn line is skipped, and accepted + skipped lines account for
 * every line of the file. (Most kills land in fsync, so torn lines are
 * rare here; t_prefs_formats makes one on purpose.)
 */
#include "data/prefs.h"
#include "core/common.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void make_rec(pref_rec *r, char *big, int writer, int seq) {
    static chat_msg prompt = {CHAT_USER, "How long is a piece of string?"};
    static char *cands[2];
    static int ranks[2] = {1, 2};
    static char lab[32];
    snprintf(lab, sizeof lab, "writer%d-%d", writer, seq);
    memset(r, 0, sizeof *r);
    r->labeler = lab, r->time = "2026-01-01T00:00:00Z", r->model = "m";
    r->prompt = &prompt, r->n_prompt = 1;
    cands[0] = big, cands[1] = "short";
    r->cand = cands, r->rank = ranks, r->n_cand = 2;
}

int main(void) {
    char path[] = "/tmp/llmos_prefs_kill_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    close(fd);
    const size_t big_n = (size_t)1 << 19;
    char *big = xmalloc(big_n + 1);
    for (size_t i = 0; i < big_n; i++) big[i] = (char)('a' + i % 26);
    big[big_n] = 0;
    srand((unsigned)time(NULL));
    for (int round = 0; round < 6; round++) {
        pid_t pid[2];
        for (int w = 0; w < 2; w++) {
            pid[w] = fork();
            if (pid[w] == 0) {
                for (int seq = 0;; seq++) {
                    pref_rec r;
                    make_rec(&r, big, round * 2 + w, seq);
                    if (pref_store_append(path, &r) < 0) _exit(3);
                }
            }
        }
        usleep(150000 + rand() % 250000);
        for (int w = 0; w < 2; w++) kill(pid[w], SIGKILL);
        for (int w = 0; w < 2; w++) {
            int st;
            waitpid(pid[w], &st, 0);
            if (!WIFSIGNALED(st)) {
                fprintf(stderr, "writer exited on its own (%d)\n", st);
                return 1;
            }
        }
    }
    /* every accepted record is complete and exact */
    pref_list l = {0};
    if (pref_store_read(path, &l, 0) < 0) return 1;
    int bad = 0;
    for (size_t i = 0; i < l.n; i++) {
        const pref_rec *r = &l.items[i];
        if (r->n_cand != 2 || strcmp(r->cand[0], big) || strcmp(r->cand[1], "short") ||
            r->rank[0] != 1 || r->rank[1] != 2 || strncmp(r->labeler, "writer", 6))
            bad++;
    }
    /* count the lines of the file: accepted + skipped = lines */
    size_t len, lines = 0, nonblank = 0;
    char *data = file_read_all(path, &len);
    for (size_t i = 0, start = 0; i < len; i++)
        if (data[i] == '\n') {
            lines++;
            nonblank += i > start;
            start = i + 1;
        }
    int torn_tail = len && data[len - 1] != '\n';
    printf("records %zu, torn lines skipped %zu (torn tail %d), file %zu lines\n", l.n, l.n_bad,
           torn_tail, lines);
    int ok = bad == 0 && l.n >= 6 && l.n + l.n_bad == nonblank + (size_t)torn_tail &&
             l.n_bad <= 12;
    free(data);
    pref_list_free(&l);
    free(big);
    unlink(path);
    if (!ok) fprintf(stderr, "FAIL: %d bad records\n", bad);
    return ok ? 0 : 1;
}
