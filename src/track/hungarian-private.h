/* The assignment problem (Kuhn's Hungarian method, in the shortest
 * augmenting path form of Jonker and Volgenant). */
#pragma once

#include <glib.h>

/* Minimises the sum of cost[i * m + j] over a matching of the n rows to
 * the m columns that matches min(n, m) of them; row_to_col[i] gets row
 * i's column, or -1. Costs must be finite. */
void spp_hungarian (const double *cost, int n, int m, int *row_to_col);
