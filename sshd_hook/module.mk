# sshd_hook/ — lockbox-session and lockbox-reaper: not built yet (issue 4).
