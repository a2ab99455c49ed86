/* spp info MODEL...: print a model's metadata. */
#include "cli.h"

#include "spp/spp.h"

#include <stdio.h>
#include <string.h>

int
spp_cli_info (int argc, char **argv)
{
  int status = 0;
  if (argc < 2 || !strcmp (argv[1], "--help") || !strcmp (argv[1], "-h")) {
    fprintf (argc < 2 ? stderr : stdout,
             "usage: spp info MODEL.sppm...\n"
             "Prints each model's layers, input rules, SPP levels, scales "
             "and classes.\n");
    return argc < 2 ? 2 : 0;
  }
  for (int i = 1; i < argc; i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (SppModel) m = spp_model_load (argv[i], &error);
    if (m == NULL) {
      fprintf (stderr, "spp info: %s\n", error->message);
      status = 1;
      continue;
    }
    g_autofree char *desc = spp_model_describe (m);
    printf ("%s%s:\n%s", i > 1 ? "\n" : "", argv[i], desc);
  }
  return status;
}
