/* Helpers of the training tests: the reference vectors of vectors.ini
 * (written by make_train_vectors.py with NumPy) and a comparison that
 * fails on NaN and on any non-finite value. */
#pragma once

#include <glib.h>

/* Fails the test unless, for every i, got[i] and want[i] are finite
 * and |got[i] - want[i]| <= atol + rtol |want[i]|; the message names
 * @what and i. */
void spp_test_assert_close (const char *what, const double *got,
                            const double *want, gsize n, double atol,
                            double rtol);
/* The same for floats. */
void spp_test_assert_close_f (const char *what, const float *got,
                              const double *want, gsize n, double atol,
                              double rtol);

/* The numbers of @key in [@group] of vectors.ini (*@n of them; fails the
 * test when absent). Free with g_free(). */
double *spp_test_vector (const char *group, const char *key, gsize *n);
/* The one number of @key in [@group]. */
double spp_test_scalar (const char *group, const char *key);
/* The same as floats, for inputs. */
float *spp_test_vector_f (const char *group, const char *key, gsize *n);

/* A file of tests/data. */
char *spp_test_data_path (const char *name);
