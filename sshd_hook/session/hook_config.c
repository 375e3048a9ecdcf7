/* Where lockbox-session is installed, and the one configuration file it reads. The file is
 * compiled in because the hook is setgid: whoever runs it chooses its arguments and environment,
 * so neither may name a file (a user would have it read root's files through the recording
 * group). The build sets it (make HOOK_CONFIG=...; tests link copies that read their own host's
 * file). The installed path is the ForceCommand the sshd snippet names (both come from
 * LIBEXECDIR): a support account whose login shell is the hook is started as
 * `lockbox-session -c PATH`. */
#include "hook.h"
#include "host_config.h"

#ifndef LBX_HOOK_CONFIG
#define LBX_HOOK_CONFIG LBX_HOST_CONFIG_PATH
#endif

#ifndef LBX_HOOK_PATH
#define LBX_HOOK_PATH "/usr/libexec/lockbox/lockbox-session"
#endif

const char lbx_hook_config_path[] = LBX_HOOK_CONFIG;
const char lbx_hook_path[] = LBX_HOOK_PATH;
