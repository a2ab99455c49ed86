/* Kuhn's Hungarian method with potentials, one row at a time along a
 * shortest augmenting path (Jonker and Volgenant 1987): O(n^2 m). */
#include "hungarian-private.h"

#include <float.h>

/* rows <= cols; a(i, j) reads the cost of row i, column j (0-based). */
static void
solve (const double *cost, int rows, int cols, gboolean transposed,
       int *col_of_row)
{
  /* 1-based arrays, index 0 a sentinel (the textbook layout). */
  g_autofree double *u = g_new0 (double, rows + 1);
  g_autofree double *v = g_new0 (double, cols + 1);
  g_autofree double *minv = g_new (double, cols + 1);
  g_autofree int *p = g_new0 (int, cols + 1);
  g_autofree int *way = g_new0 (int, cols + 1);
  g_autofree gboolean *used = g_new (gboolean, cols + 1);
#define A(i, j) (transposed ? cost[(gsize) (j) * rows + (i)] \
                            : cost[(gsize) (i) * cols + (j)])
  for (int i = 1; i <= rows; i++) {
    p[0] = i;
    int j0 = 0;
    for (int j = 0; j <= cols; j++) {
      minv[j] = DBL_MAX;
      used[j] = FALSE;
    }
    do {
      used[j0] = TRUE;
      const int i0 = p[j0];
      double delta = DBL_MAX;
      int j1 = 0;
      for (int j = 1; j <= cols; j++) {
        if (used[j])
          continue;
        const double cur = A (i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= cols; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
#undef A
  for (int i = 0; i < rows; i++)
    col_of_row[i] = -1;
  for (int j = 1; j <= cols; j++)
    if (p[j] > 0)
      col_of_row[p[j] - 1] = j - 1;
}

void
spp_hungarian (const double *cost, int n, int m, int *row_to_col)
{
  for (int i = 0; i < n; i++)
    row_to_col[i] = -1;
  if (n == 0 || m == 0)
    return;
  if (n <= m) {
    solve (cost, n, m, FALSE, row_to_col);
    return;
  }
  /* More rows than columns: solve for the columns, then invert. */
  g_autofree int *row_of_col = g_new (int, m);
  solve (cost, m, n, TRUE, row_of_col);
  for (int j = 0; j < m; j++)
    if (row_of_col[j] >= 0)
      row_to_col[row_of_col[j]] = j;
}
