/*
 * OpenBLAS called directly: the practical limit for the GEMM rows, and a C memcpy for the
 * elementwise rows. Compiled at bench time by bench/peers/openblas.ts:
 *
 *   cc -O2 openblas-gemm.c -o openblas-gemm $(pkg-config --cflags --libs openblas)   (or -lopenblas)
 *
 * Usage: openblas-gemm [--warmup-ms W] [--target-ms T] [--repeats R] [--min-repeats M]
 *                      [--max-iterations I] [--budget-ms B] gemm:N... memcpy:BYTES...
 * Prints one JSON line: {"info": {...}, "rows": [{"op", "n" | "bytes", "median_ms", ...}]}.
 * Timing follows bench/harness.ts: warm-up, calibrate, fixed iterations per repeat, median.
 */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  double warmup_ms, target_ms, budget_ms;
  long repeats, min_repeats, max_iterations;
} timing_t;

typedef struct {
  double median_ms, min_ms, max_ms;
  long iterations, repeats;
} measurement_t;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, long n) {
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static measurement_t measure(void (*fn)(void *), void *ctx, const timing_t *t) {
  double start = now_ms();
  fn(ctx);
  /* The first call often pays one-off costs (thread start-up): calibrate without it. */
  double cal_start = now_ms(), end = cal_start;
  long calls = 0;
  while (calls < 1 || end - start < t->warmup_ms) {
    fn(ctx);
    calls++;
    end = now_ms();
  }
  double per_call = (end - cal_start) / (double)calls;
  if (per_call <= 0) per_call = 1e-6;
  long iterations = (long)(t->target_ms / per_call + 0.999999);
  if (iterations < 1) iterations = 1;
  if (iterations > t->max_iterations) iterations = t->max_iterations;
  long affordable = (long)(t->budget_ms / ((double)iterations * per_call));
  long repeats = affordable < t->repeats ? affordable : t->repeats;
  if (repeats < t->min_repeats) repeats = t->min_repeats;

  double *per = malloc(sizeof(double) * (size_t)repeats);
  measurement_t m = {0, 1e300, 0, iterations, repeats};
  for (long r = 0; r < repeats; r++) {
    double t0 = now_ms();
    for (long i = 0; i < iterations; i++) fn(ctx);
    per[r] = (now_ms() - t0) / (double)iterations;
    if (per[r] < m.min_ms) m.min_ms = per[r];
    if (per[r] > m.max_ms) m.max_ms = per[r];
  }
  m.median_ms = median(per, repeats);
  free(per);
  return m;
}

typedef struct {
  int n;
  float *a, *b, *c;
} gemm_ctx;

static void run_gemm(void *p) {
  gemm_ctx *g = p;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n, g->n, g->n, 1.0f, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n);
}

typedef struct {
  size_t bytes;
  unsigned char *src, *dst;
  volatile unsigned char sink;
} copy_ctx;

static void run_memcpy(void *p) {
  copy_ctx *c = p;
  memcpy(c->dst, c->src, c->bytes);
  c->sink = c->dst[c->bytes / 2]; /* keeps the copy observable */
}

static float *random_matrix(size_t count, unsigned *state) {
  float *m = malloc(count * sizeof(float));
  if (!m) return NULL;
  for (size_t i = 0; i < count; i++) {
    *state = *state * 1664525u + 1013904223u;
    m[i] = (float)(*state >> 8) / 16777216.0f * 2.0f - 1.0f;
  }
  return m;
}

static void print_json_string(const char *s) {
  putchar('"');
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') putchar('\\');
    if ((unsigned char)*s >= 0x20) putchar(*s);
  }
  putchar('"');
}

static void print_measurement(const measurement_t *m) {
  printf("\"median_ms\":%.9g,\"min_ms\":%.9g,\"max_ms\":%.9g,\"iterations\":%ld,\"repeats\":%ld", m->median_ms, m->min_ms, m->max_ms,
         m->iterations, m->repeats);
}

int main(int argc, char **argv) {
  timing_t t = {200, 100, 4000, 7, 3, 1000000};
  unsigned seed = 12345u;
  int first_row = 1;

  printf("{\"info\":{\"config\":");
  print_json_string(openblas_get_config());
  printf(",\"corename\":");
  print_json_string(openblas_get_corename());
  printf(",\"threads\":%d},\"rows\":[", openblas_get_num_threads());

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (arg[0] == '-' && arg[1] == '-' && i + 1 < argc) {
      double v = atof(argv[++i]);
      if (!strcmp(arg, "--warmup-ms")) t.warmup_ms = v;
      else if (!strcmp(arg, "--target-ms")) t.target_ms = v;
      else if (!strcmp(arg, "--budget-ms")) t.budget_ms = v;
      else if (!strcmp(arg, "--repeats")) t.repeats = (long)v;
      else if (!strcmp(arg, "--min-repeats")) t.min_repeats = (long)v;
      else if (!strcmp(arg, "--max-iterations")) t.max_iterations = (long)v;
      else {
        fprintf(stderr, "unknown option %s\n", arg);
        return 2;
      }
      continue;
    }
    if (!strncmp(arg, "gemm:", 5)) {
      int n = atoi(arg + 5);
      gemm_ctx g = {n, random_matrix((size_t)n * n, &seed), random_matrix((size_t)n * n, &seed), calloc((size_t)n * n, sizeof(float))};
      if (n <= 0 || !g.a || !g.b || !g.c) {
        fprintf(stderr, "bad size or out of memory: %s\n", arg);
        return 2;
      }
      measurement_t m = measure(run_gemm, &g, &t);
      printf("%s{\"op\":\"gemm\",\"n\":%d,", first_row ? "" : ",", n);
      print_measurement(&m);
      printf("}");
      free(g.a), free(g.b), free(g.c);
    } else if (!strncmp(arg, "memcpy:", 7)) {
      size_t bytes = (size_t)atoll(arg + 7);
      copy_ctx c = {bytes, malloc(bytes), malloc(bytes), 0};
      if (bytes == 0 || !c.src || !c.dst) {
        fprintf(stderr, "bad size or out of memory: %s\n", arg);
        return 2;
      }
      memset(c.src, 1, bytes);
      memset(c.dst, 0, bytes); /* fault the pages in before timing */
      measurement_t m = measure(run_memcpy, &c, &t);
      printf("%s{\"op\":\"memcpy\",\"bytes\":%zu,", first_row ? "" : ",", bytes);
      print_measurement(&m);
      printf("}");
      free(c.src), free(c.dst);
    } else {
      fprintf(stderr, "unknown workload %s (expected gemm:N or memcpy:BYTES)\n", arg);
      return 2;
    }
    first_row = 0;
    fflush(stdout);
  }
  printf("]}\n");
  return 0;
}
