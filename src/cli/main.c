/* spp: the command-line front end of libspp. */
#include "cli.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
  { "info", spp_cli_info, "print a model file's metadata" },
  { "proposals", spp_cli_proposals, "selective search boxes as JSON" },
  { "detect", spp_cli_detect, "detect objects in images" },
  { "train", spp_cli_train, "train SVMs and box regressors" },
  { "eval", spp_cli_eval, "VOC-style AP of a model on COCO annotations" },
};

static void
usage (FILE *f)
{
  fprintf (f, "usage: spp COMMAND [OPTIONS...]\n\ncommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (f, "\n'spp COMMAND --help' describes each.\n");
}

int
main (int argc, char **argv)
{
  if (argc < 2) {
    usage (stderr);
    return 2;
  }
  if (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h")) {
    usage (stdout);
    return 0;
  }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (!strcmp (argv[1], commands[i].name))
      return commands[i].run (argc - 1, argv + 1);
  fprintf (stderr, "spp: unknown command '%s'\n", argv[1]);
  usage (stderr);
  return 2;
}
