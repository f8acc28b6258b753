/* memcpy/memmove calls by call site and size, for `bench/tools/memcpy-count.py`.
 *   gcc -O2 -shared -fPIC -o /tmp/memcpy-count.so bench/tools/memcpy-count.c -ldl
 *   MC_ON=1 MC_OUT=/tmp/mc.txt LD_PRELOAD=/tmp/memcpy-count.so <program>
 * writes "<calls> <bytes> <offset of the return address> <object>" lines at exit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#define SLOTS 65536
static struct { void *ra; size_t n; unsigned long c; } tab[SLOTS];
static int on = 0;
static void rec(void *ra, size_t n) {
  if (!on) return;
  uintptr_t h = ((uintptr_t)ra * 31 + n) % SLOTS;
  for (int i = 0; i < SLOTS; i++) { size_t k = (h + i) % SLOTS;
    if (tab[k].c == 0) { tab[k].ra = ra; tab[k].n = n; tab[k].c = 1; return; }
    if (tab[k].ra == ra && tab[k].n == n) { tab[k].c++; return; } }
}
static void *(*real_memcpy)(void *, const void *, size_t);
static void *(*real_memmove)(void *, const void *, size_t);
static inline void copy(char *d, const char *s, size_t n) { if (d < s || d >= s + n) { for (size_t i = 0; i < n; i++) d[i] = s[i]; } else { for (size_t i = n; i-- > 0;) d[i] = s[i]; } }
void *memcpy(void *d, const void *s, size_t n) { rec(__builtin_return_address(0), n); if (real_memcpy) return real_memcpy(d, s, n); copy(d, s, n); return d; }
void *memmove(void *d, const void *s, size_t n) { rec(__builtin_return_address(0), n); if (real_memmove) return real_memmove(d, s, n); copy(d, s, n); return d; }
__attribute__((constructor)) static void init(void) { real_memcpy = dlsym(RTLD_NEXT, "memcpy"); real_memmove = dlsym(RTLD_NEXT, "memmove"); on = getenv("MC_ON") != NULL; }
__attribute__((destructor)) static void fini(void) {
  if (!on) return; on = 0;
  FILE *f = fopen(getenv("MC_OUT") ? getenv("MC_OUT") : "/tmp/mc.txt", "w");
  Dl_info di;
  for (int i = 0; i < SLOTS; i++) if (tab[i].c) { uintptr_t off = 0; const char *obj = "?";
      if (dladdr(tab[i].ra, &di)) { off = (uintptr_t)tab[i].ra - (uintptr_t)di.dli_fbase; obj = di.dli_fname; }
      fprintf(f, "%lu %zu 0x%lx %s\n", tab[i].c, tab[i].n, (unsigned long)off, obj); }
  fclose(f);
}
