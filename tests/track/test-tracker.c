/* The object tracker: the assignment solver against brute force and a
 * hand-worked case, and tracks on scripted motions with noise, dropouts,
 * crossings and occlusions whose right ids are known by construction. */
#include "spp/object-tracker.h"
#include "hungarian-private.h"

#include <math.h>

/* The best total cost over every matching of min(n, m) pairs. */
static double
brute (const double *cost, int n, int m, int row, guint used, int left)
{
  if (left == 0 || row == n)
    return left == 0 ? 0.0 : INFINITY;
  /* Row unmatched (possible only while enough rows remain). */
  double best = n - row - 1 >= left ? brute (cost, n, m, row + 1, used, left)
                                    : INFINITY;
  for (int j = 0; j < m; j++)
    if (!(used & (1u << j)))
      best = MIN (best, cost[row * m + j]
                          + brute (cost, n, m, row + 1, used | (1u << j),
                                   left - 1));
  return best;
}

static void
test_hungarian_hand (void)
{
  /* Row 0 -> 1 (1), row 1 -> 0 (2), row 2 -> 2 (2): 5; the greedy choice
   * of the smallest entry first (row 1 -> 1, 0) ends at 0 + 3 + 3 = 6. */
  const double cost[] = { 4, 1, 3, 2, 0, 5, 3, 2, 2 };
  int a[3];
  spp_hungarian (cost, 3, 3, a);
  g_assert_cmpint (a[0], ==, 1);
  g_assert_cmpint (a[1], ==, 0);
  g_assert_cmpint (a[2], ==, 2);
}

static void
test_hungarian_brute (void)
{
  GRand *rand = g_rand_new_with_seed (7);
  for (int trial = 0; trial < 400; trial++) {
    const int n = g_rand_int_range (rand, 1, 7);
    const int m = g_rand_int_range (rand, 1, 7);
    double cost[36];
    for (int i = 0; i < n * m; i++)
      cost[i] = g_rand_int_range (rand, 0, 4) == 0
                    ? 1e6 : g_rand_double_range (rand, 0, 10);
    int a[6];
    spp_hungarian (cost, n, m, a);
    double total = 0;
    int matched = 0;
    guint cols = 0;
    for (int i = 0; i < n; i++) {
      if (a[i] < 0)
        continue;
      g_assert_cmpint (a[i], <, m);
      g_assert_false (cols & (1u << a[i]));
      cols |= 1u << a[i];
      total += cost[i * m + a[i]];
      matched++;
    }
    g_assert_cmpint (matched, ==, MIN (n, m));
    const double best = brute (cost, n, m, 0, 0, MIN (n, m));
    if (fabs (total - best) > 1e-6 * MAX (1.0, best))
      g_error ("trial %d (%dx%d): %g, brute force %g", trial, n, m, total,
               best);
  }
  g_rand_free (rand);
}

/* Object o's box at frame f of a scripted scene. */
typedef SppBox (*Path) (int o, int f);

/* Runs the tracker over frames [0, n_frames) of n_obj objects, each seen
 * unless hidden (o, f) says so, with seeded jitter and dropouts; returns
 * the id switches (a detection of object o getting a confirmed id other
 * than o's last) and stores each object's ids seen. */
static guint
run_scene (SppObjectTracker *t, Path path, int n_obj, int n_frames,
           gboolean (*hidden) (int o, int f), double jitter, double drop,
           guint64 *first_id)
{
  GRand *rand = g_rand_new_with_seed (3);
  guint switches = 0;
  guint64 last[8] = { 0 };
  for (int f = 0; f < n_frames; f++) {
    SppDetection dets[8];
    int who[8], n = 0;
    for (int o = 0; o < n_obj; o++) {
      if ((hidden && hidden (o, f)) || g_rand_double (rand) < drop)
        continue;
      SppBox b = path (o, f);
      b.x += g_rand_double_range (rand, -jitter, jitter);
      b.y += g_rand_double_range (rand, -jitter, jitter);
      b.w += g_rand_double_range (rand, -jitter, jitter);
      b.h += g_rand_double_range (rand, -jitter, jitter);
      dets[n] = (SppDetection) { b, 0, 0.9f, "person" };
      who[n++] = o;
    }
    /* Detections come in no particular order. */
    for (int i = n - 1; i > 0; i--) {
      const int j = g_rand_int_range (rand, 0, i + 1);
      SppDetection d = dets[i];
      dets[i] = dets[j];
      dets[j] = d;
      const int w = who[i];
      who[i] = who[j];
      who[j] = w;
    }
    guint64 ids[8];
    spp_object_tracker_update (t, dets, n, ids);
    for (int i = 0; i < n; i++) {
      const int o = who[i];
      if (ids[i] == 0)
        continue;
      if (last[o] != 0 && ids[i] != last[o])
        switches++;
      if (first_id && first_id[o] == 0)
        first_id[o] = ids[i];
      last[o] = ids[i];
    }
  }
  g_rand_free (rand);
  return switches;
}

/* Two people walking towards each other along nearly the same line:
 * they overlap for about 15 frames around frame 50. */
static SppBox
crossing (int o, int f)
{
  return o == 0 ? (SppBox) { 20 + 4.0 * f, 100, 30, 80 }
                : (SppBox) { 420 - 4.0 * f, 104, 30, 80 };
}

static void
test_crossing (void)
{
  g_autoptr (SppObjectTracker) t = spp_object_tracker_new (NULL);
  guint64 first[2] = { 0 };
  g_assert_cmpuint (run_scene (t, crossing, 2, 100, NULL, 2.0, 0.1, first),
                    ==, 0);
  g_assert_cmpuint (first[0], !=, 0);
  g_assert_cmpuint (first[1], !=, 0);
  g_assert_cmpuint (first[0], !=, first[1]);
}

/* Object 1 is hidden for 8 frames while object 0 passes it. */
static gboolean
occluded (int o, int f)
{
  return o == 1 && f >= 40 && f < 48;
}

static SppBox
walking (int o, int f)
{
  return o == 0 ? (SppBox) { 10 + 3.0 * f, 50, 30, 80 }
                : (SppBox) { 300 - 2.0 * f, 60, 30, 80 };
}

static void
test_occlusion (void)
{
  g_autoptr (SppObjectTracker) t = spp_object_tracker_new (NULL);
  guint64 first[2] = { 0 };
  g_assert_cmpuint (run_scene (t, walking, 2, 90, occluded, 1.0, 0.0, first),
                    ==, 0);
}

/* Hidden for longer than max_age: the track ends, a new id follows. */
static gboolean
gone_long (int o, int f)
{
  return f >= 20 && f < 60;
}

static SppBox
still (int o, int f)
{
  return (SppBox) { 100, 100, 40, 90 };
}

static void
test_max_age (void)
{
  SppObjectTrackerParams p;
  spp_object_tracker_params_init (&p);
  p.max_age = 10;
  g_autoptr (SppObjectTracker) t = spp_object_tracker_new (&p);
  guint64 first[1] = { 0 };
  /* One switch: the id after the gap is a new one. */
  g_assert_cmpuint (run_scene (t, still, 1, 80, gone_long, 0.0, 0.0, first),
                    ==, 1);
  g_assert_cmpuint (first[0], ==, 1);
}

static void
test_min_hits_and_class (void)
{
  g_autoptr (SppObjectTracker) t = spp_object_tracker_new (NULL);
  const SppDetection a = { { 10, 10, 20, 40 }, 0, 0.9f, "person" };
  const SppDetection b = { { 10, 10, 20, 40 }, 1, 0.9f, "vehicle" };
  guint64 ids[2];
  guint n;
  /* A detection seen once gets no id, and its track ends at its first
   * miss. */
  spp_object_tracker_update (t, &a, 1, ids);
  g_assert_cmpuint (ids[0], ==, 0);
  spp_object_tracker_update (t, NULL, 0, NULL);
  spp_object_tracker_get_tracks (t, &n);
  g_assert_cmpuint (n, ==, 0);
  /* Two classes on the same box stay two tracks. */
  const SppDetection both[] = { a, b };
  for (int f = 0; f < 3; f++)
    spp_object_tracker_update (t, both, 2, ids);
  g_assert_cmpuint (ids[0], !=, 0);
  g_assert_cmpuint (ids[1], !=, 0);
  g_assert_cmpuint (ids[0], !=, ids[1]);
  const SppTrack *tracks = spp_object_tracker_get_tracks (t, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (tracks[0].label_id, !=, tracks[1].label_id);
  /* A moved box gets the track's id and leaves the track as it was. */
  SppDetection moved = a;
  moved.box.x += 2;
  guint64 mid = 0;
  guint hits = 0;
  tracks = spp_object_tracker_get_tracks (t, &n);
  for (guint i = 0; i < n; i++)
    if (tracks[i].id == ids[0])
      hits = tracks[i].hits;
  spp_object_tracker_match (t, &moved, 1, &mid);
  g_assert_cmpuint (mid, ==, ids[0]);
  tracks = spp_object_tracker_get_tracks (t, &n);
  for (guint i = 0; i < n; i++)
    if (tracks[i].id == ids[0])
      g_assert_cmpuint (tracks[i].hits, ==, hits);
  /* A vehicle where the person was does not continue the person. */
  const guint64 person = ids[0];
  spp_object_tracker_update (t, &b, 1, ids);
  g_assert_cmpuint (ids[0], !=, person);
  spp_object_tracker_reset (t);
  spp_object_tracker_get_tracks (t, &n);
  g_assert_cmpuint (n, ==, 0);
  /* Ids keep counting after a reset. */
  for (int f = 0; f < 3; f++)
    spp_object_tracker_update (t, &a, 1, ids);
  g_assert_cmpuint (ids[0], ==, 3);
}

/* Random detections for 20,000 frames: tracks end, so the live count
 * stays bounded by what max_age allows. */
static void
test_bounded (void)
{
  SppObjectTrackerParams p;
  spp_object_tracker_params_init (&p);
  g_autoptr (SppObjectTracker) t = spp_object_tracker_new (&p);
  GRand *rand = g_rand_new_with_seed (11);
  guint most = 0;
  for (int f = 0; f < 20000; f++) {
    SppDetection dets[20];
    const int n = g_rand_int_range (rand, 0, 21);
    for (int i = 0; i < n; i++)
      dets[i] = (SppDetection) { { g_rand_double_range (rand, 0, 600),
                                   g_rand_double_range (rand, 0, 400), 40,
                                   80 }, g_rand_int_range (rand, 0, 2), 0.5f,
                                 "x" };
    spp_object_tracker_update (t, dets, n, NULL);
    guint live;
    spp_object_tracker_get_tracks (t, &live);
    most = MAX (most, live);
  }
  g_rand_free (rand);
  g_assert_cmpuint (most, <=, 20 * (p.max_age + 2));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/track/hungarian-hand", test_hungarian_hand);
  g_test_add_func ("/track/hungarian-brute", test_hungarian_brute);
  g_test_add_func ("/track/crossing", test_crossing);
  g_test_add_func ("/track/occlusion", test_occlusion);
  g_test_add_func ("/track/max-age", test_max_age);
  g_test_add_func ("/track/min-hits-and-class", test_min_hits_and_class);
  g_test_add_func ("/track/bounded", test_bounded);
  return g_test_run ();
}
