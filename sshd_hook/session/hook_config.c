/* The one configuration file lockbox-session reads. It is compiled in because the hook is
 * setgid: whoever runs it chooses its arguments and environment, so neither may name a file
 * (a user would have it read root's files through the recording group). The build sets it
 * (make HOOK_CONFIG=...; tests link copies that read their own host's file). */
#include "hook.h"
#include "host_config.h"

#ifndef LBX_HOOK_CONFIG
#define LBX_HOOK_CONFIG LBX_HOST_CONFIG_PATH
#endif

const char lbx_hook_config_path[] = LBX_HOOK_CONFIG;
