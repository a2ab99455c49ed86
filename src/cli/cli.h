#pragma once

/* One function per subcommand; each gets argv from the subcommand name on
 * and returns the process exit status. */
int spp_cli_info (int argc, char **argv);
int spp_cli_proposals (int argc, char **argv);
int spp_cli_detect (int argc, char **argv);
int spp_cli_train (int argc, char **argv);
int spp_cli_eval (int argc, char **argv);
